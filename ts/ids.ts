// Job ids of a run (stable across runs: state.json and results.json are keyed by them), for the
// pipeline that names its jobs and the results that read them back.
export const jobIds = {
  collect: (language: string) => `collect:${language}`,
  select: "select",
  importNeurons: "import",
  train: (language: string, label: string) => `train:${language}:${label}`,
  /** A method's label on another language's neurons (training.transfer): "sparse@af". */
  transferLabel: (label: string, neuronsOf: string) => `${label}@${neuronsOf}`,
  evaluateBase: "evaluate:base",
  evaluateTrained: (language: string, label: string) => `evaluate:${language}:${label}`,
  analyze: (language: string, label: string) => `weights:${language}:${label}`,
  /** Held-out perplexity with a language's neurons off (control "random": a same-size random set). */
  deactivate: (language: string, control: "language" | "random") => `deactivate:${language}${control === "random" ? ":random" : ""}`,
  selectSubset: (name: string) => `select:${name}`,
  /** LAPE with one candidate's parameters (identification lists), its short training per target, the choice. */
  selectCandidate: (candidate: string) => `candidate:${candidate}`,
  searchTrain: (language: string, candidate: string) => `search:${language}:${candidate}`,
  chooseSelection: (language: string) => `choose:${language}`,
  /** A trained pack scored with only one of its components applied. */
  evaluateComponent: (language: string, label: string, component: string) => `evaluate:${language}:${label}:${component}`,
  /** Generation with `from`'s neurons off and `to`'s pushed up by `strength` (control "random": same-size random sets). */
  steer: (from: string, to: string, strength: number, control: "language" | "random") => `steer:${from}:${to}:${strength}${control === "random" ? ":random" : ""}`,
  atlas: "atlas",
};

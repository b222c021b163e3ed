"""Where in depth a model's language neurons sit, against the paper's released masks.

    python bench/atlas_vs_paper.py PAPER.pt RUN_DIR [--subset paper]

PAPER.pt: the authors' released List[language][layer] file for the 12 paper languages (mt af is
cy mk lv lt sl sk et ka ne; Language-Subnetwork-Enhancement-LLMs, enhancement/activation_mask/
llama-3.1-5). RUN_DIR: a `sparse-sub atlas` run with `--subset paper=mlt,afr,isl,cym,mkd,lav,lit,
slv,slk,est,kat,nep` (the same languages, in that order). Models differ in depth, so layers are
compared by relative depth: each set's neurons are binned into quarters of the layer stack.
Prints, per language, the share of its neurons in each quarter for both, and over all languages
the Pearson correlation of the two profiles on ten depth bins."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

PAPER_ORDER = ["mt", "af", "is", "cy", "mk", "lv", "lt", "sl", "sk", "et", "ka", "ne"]
UDHR_IDS = ["mlt", "afr", "isl", "cym", "mkd", "lav", "lit", "slv", "slk", "est", "kat", "nep"]


def profile(per_layer: list[int], bins: int) -> list[float]:
    """Share of neurons per depth bin (layer l of L sits at depth (l + 0.5) / L)."""
    total = sum(per_layer) or 1
    shares = [0.0] * bins
    for layer, count in enumerate(per_layer):
        shares[min(int((layer + 0.5) / len(per_layer) * bins), bins - 1)] += count / total
    return shares


def pearson(a: list[float], b: list[float]) -> float:
    x, y = torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
    return float(torch.corrcoef(torch.stack([x, y]))[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paper")
    parser.add_argument("run_dir")
    parser.add_argument("--subset", default="paper")
    args = parser.parse_args()
    paper = torch.load(args.paper, weights_only=True)
    folder = Path(args.run_dir) / "neurons" / "subsets" / args.subset
    print(f"| language | paper neurons (Llama-3.1-8B, {len(paper[0])} layers) | paper quarters | ours | our quarters |")
    print("|---|---|---|---|---|")
    ours_all, paper_all = [0.0] * 10, [0.0] * 10
    for code, udhr_id, layers in zip(PAPER_ORDER, UDHR_IDS, paper):
        paper_counts = [int(torch.as_tensor(t).numel()) for t in layers]
        our_counts = [len(indices) for indices in json.loads((folder / f"{udhr_id}.json").read_text())["layers"]]
        quarters = lambda counts: " / ".join(f"{100 * s:.0f}" for s in profile(counts, 4))
        print(f"| {code} | {sum(paper_counts)} | {quarters(paper_counts)} | {sum(our_counts)} | {quarters(our_counts)} |")
        ours_all = [o + s for o, s in zip(ours_all, profile(our_counts, 10))]
        paper_all = [p + s for p, s in zip(paper_all, profile(paper_counts, 10))]
    print(f"\nquarters: % of a language's neurons in the first / second / third / last quarter of the layers")
    print(f"depth profile over all 12 languages, 10 bins: paper {' '.join(f'{x / 12:.2f}' for x in paper_all)}")
    print(f"                                           ours  {' '.join(f'{x / 12:.2f}' for x in ours_all)}")
    print(f"Pearson r of the two profiles: {pearson(ours_all, paper_all):.2f}")


if __name__ == "__main__":
    main()

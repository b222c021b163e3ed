"""A tiny random-init Llama with a byte-level BPE tokenizer trained on the given text, for tests.

    python -m sparse_sub_worker.testing.tiny_model --out DIR [--text FILE ...] [--layers 2] ...
"""

from __future__ import annotations

import argparse
from pathlib import Path


def make_tokenizer(texts: list[str], vocab_size: int, adds_bos: bool = False):
    """adds_bos: the tokenizer puts <s> first by itself (a post-processor, as Llama-3's does)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token=None))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=["<s>", "</s>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tokenizer.train_from_iterator(texts or ["sparse sub tiny model"], trainer)
    if adds_bos:
        bos = tokenizer.token_to_id("<s>")
        tokenizer.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>")


def make_tiny_llama(out: str | Path, texts: list[str], layers: int = 2, hidden: int = 32, intermediate: int = 64,
                    vocab_size: int = 512, seed: int = 0, tokenizer_adds_bos: bool = False) -> Path:
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = make_tokenizer(texts, vocab_size, tokenizer_adds_bos)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=layers,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=False,
    )
    return _save_seeded(lambda: LlamaForCausalLM(config), tokenizer, out, seed)


def _save_seeded(build, tokenizer, out: str | Path, seed: int) -> Path:
    """Builds the model under a fixed seed and saves it with its tokenizer."""
    import torch

    torch.manual_seed(seed)
    model = build()
    out = Path(out)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def make_tiny_gemma3(out: str | Path, texts: list[str], layers: int = 2, hidden: int = 32, intermediate: int = 64,
                     vocab_size: int = 512, seed: int = 0) -> Path:
    """A tiny random Gemma-3 text model whose tokenizer adds no BOS by itself, like the
    tokenizer transformers converts from a Gemma-3 GGUF file."""
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    tokenizer = make_tokenizer(texts, vocab_size)
    config = Gemma3TextConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=layers,
        num_attention_heads=4, num_key_value_heads=2, head_dim=8, max_position_embeddings=1024, sliding_window=16,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.eos_token_id,
    )
    return _save_seeded(lambda: Gemma3ForCausalLM(config), tokenizer, out, seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True)
    parser.add_argument("--text", action="append", default=[], help="UTF-8 text file(s) to train the tokenizer on")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--intermediate", type=int, default=64)
    parser.add_argument("--vocab-size", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    texts = [Path(p).read_text(encoding="utf-8") for p in args.text]
    print(make_tiny_llama(args.out, texts, args.layers, args.hidden, args.intermediate, args.vocab_size, args.seed))


if __name__ == "__main__":
    main()

"""A deterministic planted-topic corpus: documents drawn from known Zipfian topics.

    python bench/planted.py N OUT.txt [--topics 50] [--vocabulary 50000] [--seed 0]

writes OUT.txt (one document per line, read by topicnmf as a lines corpus) and
OUT.labels.npy (each document's dominant true topic, int16). Each of the K topics is a
Zipf distribution (exponent 1.05) over its own random order of the vocabulary; a document
has 50-300 tokens, 1-3 topics with Dirichlet proportions (the largest is its label), and a
fifth of its tokens from a shared background Zipf (the common words every corpus has).
Documents are generated in blocks with NumPy, so 1 M documents take a few minutes.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

BLOCK = 20_000
ZIPF_EXPONENT = 1.05
BACKGROUND = 0.2


def words(n: int) -> np.ndarray:
    """n distinct lowercase words (the prefix keeps them apart from English stop words)."""
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    out = []
    for i in range(n):
        s = ""
        x = i
        for _ in range(3):
            s = letters[x % 26] + s
            x //= 26
        out.append("zq" + s + (str(x) if x else ""))
    return np.array(out, dtype=object)


def generate(n_docs: int, k: int, n_words: int, seed: int):
    """Yield (texts, labels) blocks."""
    rng = np.random.default_rng(seed)
    vocab = words(n_words)
    ranks = np.arange(1, n_words + 1, dtype=np.float64)
    cdf = np.cumsum(ranks**-ZIPF_EXPONENT)
    cdf /= cdf[-1]
    orders = np.stack([rng.permutation(n_words) for _ in range(k + 1)])  # k topics + background
    for start in range(0, n_docs, BLOCK):
        m = min(BLOCK, n_docs - start)
        lengths = rng.integers(50, 301, size=m)
        n_topics = rng.integers(1, 4, size=m)
        topics = np.stack([rng.choice(k, size=3, replace=False) for _ in range(m)])
        props = rng.dirichlet(np.ones(3), size=m)
        props[n_topics < 3, 2] = 0
        props[n_topics < 2, 1] = 0
        props /= props.sum(axis=1, keepdims=True)
        labels = topics[np.arange(m), props.argmax(axis=1)]
        doc_of = np.repeat(np.arange(m), lengths)
        u = rng.random(len(doc_of))
        cum = np.cumsum(props, axis=1)[doc_of]
        slot = (u[:, None] > cum).sum(axis=1).clip(max=2)
        topic = topics[doc_of, slot]
        topic = np.where(rng.random(len(doc_of)) < BACKGROUND, k, topic)
        rank = np.searchsorted(cdf, rng.random(len(doc_of)))
        tokens = vocab[orders[topic, rank]]
        bounds = np.concatenate([[0], np.cumsum(lengths)])
        texts = [" ".join(tokens[bounds[i] : bounds[i + 1]]) for i in range(m)]
        yield texts, labels.astype(np.int16)


def write(path: str, n_docs: int, k: int = 50, n_words: int = 50_000, seed: int = 0) -> None:
    """Write the corpus to ``path`` and the labels to ``path`` + ``.labels.npy``."""
    labels = []
    with open(path, "w", encoding="utf-8") as fh:
        for texts, block in generate(n_docs, k, n_words, seed):
            fh.write("\n".join(texts))
            fh.write("\n")
            labels.append(block)
    np.save(path + ".labels.npy", np.concatenate(labels))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int)
    parser.add_argument("out")
    parser.add_argument("--topics", type=int, default=50)
    parser.add_argument("--vocabulary", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    t0 = time.perf_counter()
    write(args.out, args.n, args.topics, args.vocabulary, args.seed)
    print(f"{args.n:,} documents in {time.perf_counter() - t0:.1f} s -> {args.out}")


if __name__ == "__main__":
    main()

"""The short answer: two or three sentences, under 60 words, that answer what was asked."""

from __future__ import annotations

from scanwise.domain.answers.text import split_sentences

MAX_WORDS = 59  # under 60
MAX_SENTENCES = 3


def shorten(texts: list[str], max_words: int = MAX_WORDS, max_sentences: int = MAX_SENTENCES) -> str:
    """Whole sentences from the texts, in order, while they fit; always at least one."""
    out: list[str] = []
    words = 0
    for text in texts:
        for sentence in split_sentences(" ".join(text.split())):
            n = len(sentence.split())
            if out and (words + n > max_words or len(out) >= max_sentences):
                return " ".join(out)
            out.append(sentence)
            words += n
    return " ".join(out)

package dev.taipan.loaders.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.PriorityQueue;

/**
 * SentencePiece BPE with scores and byte fallback, as llama.cpp's {@code llm_tokenizer_spm_session}
 * (llama-vocab.cpp): the text (spaces already escaped to U+2581) is split into characters; every
 * adjacent pair whose concatenation is a vocabulary token is queued by that token's score; the best
 * pair (highest score, leftmost on ties) is merged and its new neighbours queued, until no pair
 * remains. Each final symbol is its token, or, when it is not in the vocabulary, one byte token
 * ({@code <0xNN>}) per UTF-8 byte.
 *
 * <p>Differences: llama.cpp's {@code rev_merge} re-segmentation is left out: a merged symbol is
 * always a vocabulary token, so only unmerged characters can miss, and those fall back to bytes in
 * both. A byte with no byte token becomes the unknown token (llama.cpp aborts).
 */
final class SpmEncoder {
    private final Vocabulary vocab;

    SpmEncoder(Vocabulary vocab) {
        this.vocab = vocab;
    }

    /** A queued merge of the adjacent symbols {@code left} and {@code right}. */
    private record Bigram(int left, int right, float score, int size) {
    }

    /** Appends the tokens of {@code text} (whitespace already escaped) to {@code out}. */
    void encode(String text, IntList out) {
        int n = text.codePointCount(0, text.length());
        if (n == 0) {
            return;
        }
        int[] start = new int[n];
        int[] len = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0, offset = 0; i < n; i++) {
            int cp = text.codePointAt(offset);
            start[i] = offset;
            len[i] = Character.charCount(cp);
            offset += len[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        // best score first; on equal scores the leftmost pair
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.score != b.score
                ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) {
            tryAddBigram(text, start, len, i - 1, i, queue);
        }

        // merge the best pair for as long as there is one
        while (!queue.isEmpty()) {
            Bigram bigram = queue.poll();
            int l = bigram.left;
            int r = bigram.right;
            // skip pairs whose symbols were merged since they were queued
            if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != bigram.size) {
                continue;
            }
            len[l] += len[r];
            len[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            tryAddBigram(text, start, len, prev[l], l, queue);
            tryAddBigram(text, start, len, l, next[l], queue);
        }

        // each symbol is a token, or falls back to its bytes
        for (int i = 0; i != -1; i = next[i]) {
            String symbol = text.substring(start[i], start[i] + len[i]);
            int id = vocab.id(symbol);
            if (id != Vocabulary.NONE) {
                out.add(id);
                continue;
            }
            for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
                out.add(byteToken(b & 0xFF));
            }
        }
    }

    private void tryAddBigram(String text, int[] start, int[] len, int left, int right, PriorityQueue<Bigram> queue) {
        if (left == -1 || right == -1) {
            return;
        }
        int size = len[left] + len[right];
        int id = vocab.id(text.substring(start[left], start[left] + size));
        if (id == Vocabulary.NONE) {
            return;
        }
        queue.add(new Bigram(left, right, vocab.scores[id], size));
    }

    private int byteToken(int b) {
        int id = vocab.byteTokens[b];
        if (id != Vocabulary.NONE) {
            return id;
        }
        if (vocab.unk != Vocabulary.NONE) {
            return vocab.unk;
        }
        throw new IllegalStateException(vocab.origin + ": the vocabulary has no token for byte 0x"
                + Integer.toHexString(b) + " and no unknown token");
    }
}

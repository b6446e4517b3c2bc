package dev.taipan.loaders.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.PriorityQueue;

/**
 * Byte-level BPE as llama.cpp's {@code llm_tokenizer_bpe_session} (llama-vocab.cpp): the
 * pre-tokenizer cuts the text into words; each word's UTF-8 bytes are mapped to GPT-2's printable
 * stand-in characters ({@link ByteUnicode}); adjacent symbols are merged by merge rank (lowest
 * first, leftmost on ties) until no ranked pair remains; each final symbol is looked up in the
 * vocabulary. With {@code ignore_merges} (Llama 3 style) a word that is itself a token is emitted
 * whole.
 *
 * <p>A final symbol missing from the vocabulary (a malformed vocabulary) is replaced, as in
 * llama.cpp, by the tokens of its single ASCII characters; other characters are dropped.
 */
final class BpeEncoder {
    private final Vocabulary vocab;
    private final PreTokenizer preTokenizer;

    BpeEncoder(Vocabulary vocab) {
        this.vocab = vocab;
        this.preTokenizer = vocab.preTokenizer;
    }

    /** A queued merge of adjacent symbols {@code left} and {@code right} into {@code text}. */
    private record Bigram(int left, int right, String text, int rank) {
    }

    /** Appends the tokens of {@code text} to {@code out}. */
    void encode(String text, IntList out) {
        for (String word : preTokenizer.split(text)) {
            encodeWord(ByteUnicode.encode(word.getBytes(StandardCharsets.UTF_8)), out);
        }
    }

    private void encodeWord(String word, IntList out) {
        if (preTokenizer.ignoreMerges()) {
            int whole = vocab.id(word);
            if (whole != Vocabulary.NONE) {
                out.add(whole);
                return;
            }
        }
        int n = word.codePointCount(0, word.length());
        String[] symbols = new String[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0, offset = 0; i < n; i++) {
            int end = word.offsetByCodePoints(offset, 1);
            symbols[i] = word.substring(offset, end);
            offset = end;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        // lowest rank first; on equal ranks the leftmost pair
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.rank != b.rank
                ? Integer.compare(a.rank, b.rank) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) {
            addBigram(symbols, i - 1, i, queue);
        }

        // merge the best-ranked pair for as long as there is one
        while (!queue.isEmpty()) {
            Bigram bigram = queue.poll();
            int l = bigram.left;
            int r = bigram.right;
            // skip pairs whose symbols changed since they were queued
            if (symbols[l].isEmpty() || symbols[r].isEmpty() || !bigram.text.equals(symbols[l] + symbols[r])) {
                continue;
            }
            symbols[l] = bigram.text;
            symbols[r] = "";
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            addBigram(symbols, prev[l], l, queue);
            addBigram(symbols, l, next[l], queue);
        }

        // each remaining symbol is a token
        for (int i = 0; i != -1; i = next[i]) {
            int id = vocab.id(symbols[i]);
            if (id != Vocabulary.NONE) {
                out.add(id);
                continue;
            }
            for (int k = 0; k < symbols[i].length(); k++) {
                char c = symbols[i].charAt(k);
                int single = c < 0x80 ? vocab.id(String.valueOf(c)) : Vocabulary.NONE;
                if (single != Vocabulary.NONE) {
                    out.add(single);
                }
            }
        }
    }

    private void addBigram(String[] symbols, int left, int right, PriorityQueue<Bigram> queue) {
        if (left == -1 || right == -1) {
            return;
        }
        int rank = vocab.mergeRank(symbols[left], symbols[right]);
        if (rank >= 0) {
            queue.add(new Bigram(left, right, symbols[left] + symbols[right], rank));
        }
    }
}

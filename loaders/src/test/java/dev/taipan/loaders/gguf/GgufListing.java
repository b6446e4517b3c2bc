package dev.taipan.loaders.gguf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the {@code .kv.txt} / {@code .tensors.txt} listings of the shared fixtures (output of
 * gguf-py's gguf_dump.py): values are Python reprs, arrays are cut after a few elements ("...").
 */
final class GgufListing {
    /** One metadata line: listed type ("UINT32", "[STRING]"), element count, key, parsed value(s). */
    record Kv(String type, long count, String key, List<Object> shown, boolean abbreviated) {
        boolean isArray() {
            return type.startsWith("[");
        }
    }

    /** One tensor line: element count, ne padded to 4 dims, type name, name. */
    record TensorLine(long elements, long[] ne, String type, String name) {
    }

    private static final Pattern KV = Pattern.compile("^\\s*\\d+: (\\S+)\\s*\\|\\s*(\\d+) \\| (\\S+) = (.*)$");
    private static final Pattern TENSOR =
            Pattern.compile("^\\s*\\d+:\\s+(\\d+) \\|\\s*([\\d,\\s]+?)\\s*\\| (\\S+)\\s*\\| (.+)$");

    private GgufListing() {
    }

    static List<Kv> kvs(Path file) {
        List<Kv> out = new ArrayList<>();
        for (String line : lines(file)) {
            Matcher m = KV.matcher(line);
            if (!m.matches()) {
                continue;
            }
            String type = m.group(1);
            String text = m.group(4);
            List<Object> shown = new ArrayList<>();
            boolean abbreviated = false;
            if (type.startsWith("[")) {
                Cursor c = new Cursor(text);
                c.expect('[');
                while (!c.peek(']')) {
                    if (c.text.startsWith("...", c.pos)) {
                        c.pos += 3;
                        abbreviated = true;
                    } else {
                        shown.add(c.value());
                    }
                    if (c.peek(',')) {
                        c.expect(',');
                        c.expect(' ');
                    }
                }
            } else {
                Cursor c = new Cursor(text);
                shown.add(c.value());
                if (c.pos != text.length()) {
                    throw new IllegalArgumentException("trailing text in " + line);
                }
            }
            out.add(new Kv(type, Long.parseLong(m.group(2)), m.group(3), shown, abbreviated));
        }
        return out;
    }

    static List<TensorLine> tensors(Path file) {
        List<TensorLine> out = new ArrayList<>();
        for (String line : lines(file)) {
            Matcher m = TENSOR.matcher(line);
            if (!m.matches()) {
                continue;
            }
            String[] dims = m.group(2).split(",");
            long[] ne = new long[dims.length];
            for (int i = 0; i < ne.length; i++) {
                ne[i] = Long.parseLong(dims[i].trim());
            }
            out.add(new TensorLine(Long.parseLong(m.group(1)), ne, m.group(3), m.group(4).trim()));
        }
        return out;
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Python repr values: 'str' / "str" (with escapes), True/False, ints, floats. */
    private static final class Cursor {
        final String text;
        int pos;

        Cursor(String text) {
            this.text = text;
        }

        boolean peek(char ch) {
            return pos < text.length() && text.charAt(pos) == ch;
        }

        void expect(char ch) {
            if (!peek(ch)) {
                throw new IllegalArgumentException("expected '" + ch + "' at " + pos + " in " + text);
            }
            pos++;
        }

        Object value() {
            char ch = text.charAt(pos);
            if (ch == '\'' || ch == '"') {
                return string(ch);
            }
            int end = pos;
            while (end < text.length() && text.charAt(end) != ',' && text.charAt(end) != ']') {
                end++;
            }
            String tok = text.substring(pos, end);
            pos = end;
            return switch (tok) {
                case "True" -> Boolean.TRUE;
                case "False" -> Boolean.FALSE;
                default -> tok.matches("-?\\d+") ? (Object) Long.parseLong(tok) : (Object) Double.parseDouble(tok);
            };
        }

        private String string(char quote) {
            expect(quote);
            StringBuilder sb = new StringBuilder();
            while (!peek(quote)) {
                char ch = text.charAt(pos++);
                if (ch != '\\') {
                    sb.append(ch);
                    continue;
                }
                char e = text.charAt(pos++);
                switch (e) {
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case 'r' -> sb.append('\r');
                    case 'x' -> {
                        sb.append((char) Integer.parseInt(text.substring(pos, pos + 2), 16));
                        pos += 2;
                    }
                    case 'u' -> {
                        sb.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
                        pos += 4;
                    }
                    case 'U' -> {
                        sb.appendCodePoint(Integer.parseInt(text.substring(pos, pos + 8), 16));
                        pos += 8;
                    }
                    default -> sb.append(e);
                }
            }
            expect(quote);
            return sb.toString();
        }
    }
}

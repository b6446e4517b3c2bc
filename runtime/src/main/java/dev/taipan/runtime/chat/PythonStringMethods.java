package dev.taipan.runtime.chat;

import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Python string methods that chat templates call and Java strings lack, for jinjava: inside
 * {@code {{ }}} and {@code {% %}} tags, {@code x.startswith(a)} becomes {@code (x|py_startswith(a))}
 * (likewise {@code endswith}, {@code strip}, {@code lstrip}, {@code rstrip} and {@code split}, whose
 * Java namesakes differ: {@code split} takes a regex and drops trailing empty parts), and
 * {@code [::-1]} becomes {@code |reverse}; keyword arguments of {@code namespace(...)} are put in
 * parentheses (jinjava would bind {@code a=x|length} before a following {@code - 1}). The filters
 * implement Python's {@code str} semantics.
 * Templates using other Python-only syntax still fail and the caller falls back to plain completion.
 */
final class PythonStringMethods {
    private static final Pattern TAG = Pattern.compile("\\{\\{.*?}}|\\{%.*?%}", Pattern.DOTALL);
    private static final Pattern KEYWORD = Pattern.compile("\\s*([A-Za-z_]\\w*)\\s*=(?!=)(.*)", Pattern.DOTALL);
    private static final Pattern CALL = Pattern.compile("\\.(startswith|endswith|strip|lstrip|rstrip|split)\\(");

    private PythonStringMethods() {
    }

    /** The template with the method calls in its tags rewritten as filters. */
    static String rewrite(String source) {
        StringBuilder out = new StringBuilder(source.length() + 64);
        Matcher tag = TAG.matcher(source);
        int last = 0;
        while (tag.find()) {
            out.append(source, last, tag.start());
            out.append(rewriteTag(tag.group()));
            last = tag.end();
        }
        return out.append(source, last, source.length()).toString();
    }

    private static String rewriteTag(String tag) {
        String s = parenthesizeKeywordArguments(tag.replace("[::-1]", "|reverse"));
        Matcher m = CALL.matcher(s);
        int from = 0;
        while (m.find(from)) {
            int dot = m.start();
            int chainStart = chainStart(s, dot);
            int close = matching(s, m.end() - 1);
            if (chainStart == dot || close < 0) {
                from = m.end();
                m = CALL.matcher(s);
                continue;
            }
            String replaced = "(" + s.substring(chainStart, dot) + "|py_" + m.group(1)
                    + s.substring(m.end() - 1, close + 1) + ")";
            s = s.substring(0, chainStart) + replaced + s.substring(close + 1);
            from = chainStart + replaced.length();
            m = CALL.matcher(s);
        }
        return s;
    }

    // namespace(a=x|length - 1): jinjava binds "a=x|length" before the "- 1"; Jinja2 takes the whole expression.
    private static String parenthesizeKeywordArguments(String s) {
        int at = s.indexOf("namespace(");
        while (at >= 0) {
            int open = at + "namespace".length();
            int close = matching(s, open);
            if (close < 0) {
                return s;
            }
            List<String> args = topLevelArguments(s.substring(open + 1, close));
            StringBuilder call = new StringBuilder("namespace(");
            for (int i = 0; i < args.size(); i++) {
                Matcher kw = KEYWORD.matcher(args.get(i));
                call.append(i > 0 ? "," : "").append(kw.matches()
                        ? kw.group(1) + "=(" + kw.group(2).strip() + ")" : args.get(i));
            }
            call.append(')');
            s = s.substring(0, at) + call + s.substring(close + 1);
            at = s.indexOf("namespace(", at + call.length());
        }
        return s;
    }

    private static List<String> topLevelArguments(String s) {
        List<String> args = new ArrayList<>();
        int depth = 0;
        int from = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\'' || c == '"') {
                int end = i + 1;
                while (end < s.length() && s.charAt(end) != c) {
                    end += s.charAt(end) == '\\' ? 2 : 1;
                }
                i = end;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
            } else if (c == ',' && depth == 0) {
                args.add(s.substring(from, i));
                from = i + 1;
            }
        }
        if (from < s.length() || !args.isEmpty()) {
            args.add(s.substring(from));
        }
        return args;
    }

    // Start of the postfix chain ending just before {@code end}: names, dots, calls, subscripts, a literal.
    private static int chainStart(String s, int end) {
        int i = end - 1;
        while (i >= 0) {
            char c = s.charAt(i);
            if (c == ')' || c == ']') {
                i = opening(s, i) - 1;
                if (i < -1) {
                    return end;
                }
            } else if (c == '\'' || c == '"') {
                int open = s.lastIndexOf(c, i - 1);
                if (open < 0) {
                    return end;
                }
                i = open - 1;
            } else if (Character.isLetterOrDigit(c) || c == '_' || c == '.') {
                i--;
            } else {
                break;
            }
        }
        return i + 1;
    }

    // Index of the bracket that opens the one closing at {@code close}, skipping string literals; -1 if none.
    private static int opening(String s, int close) {
        int depth = 0;
        for (int i = close; i >= 0; i--) {
            char c = s.charAt(i);
            if (c == '\'' || c == '"') {
                i = s.lastIndexOf(c, i - 1);
                if (i < 0) {
                    return -1;
                }
            } else if (c == ')' || c == ']') {
                depth++;
            } else if ((c == '(' || c == '[') && --depth == 0) {
                return i;
            }
        }
        return -1;
    }

    // Index of the bracket that closes the one opening at {@code open}, skipping string literals; -1 if none.
    private static int matching(String s, int open) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\'' || c == '"') {
                int end = i + 1;
                while (end < s.length() && s.charAt(end) != c) {
                    end += s.charAt(end) == '\\' ? 2 : 1;
                }
                i = end;
            } else if (c == '(' || c == '[') {
                depth++;
            } else if ((c == ')' || c == ']') && --depth == 0) {
                return i;
            }
        }
        return -1;
    }

    /** Registers the {@code py_*} filters. */
    static void register(Context context) {
        context.registerFilter(filter("startswith", (s, a) -> a.length > 0 && s.startsWith(a[0])));
        context.registerFilter(filter("endswith", (s, a) -> a.length > 0 && s.endsWith(a[0])));
        context.registerFilter(filter("strip", (s, a) -> stripEnd(stripStart(s, chars(a)), chars(a))));
        context.registerFilter(filter("lstrip", (s, a) -> stripStart(s, chars(a))));
        context.registerFilter(filter("rstrip", (s, a) -> stripEnd(s, chars(a))));
        context.registerFilter(filter("split", (s, a) -> split(s, a.length > 0 ? a[0] : null)));
    }

    private static Filter filter(String method, BiFunction<String, String[], Object> fn) {
        return new Filter() {
            @Override
            public String getName() {
                return "py_" + method;
            }

            @Override
            public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
                return fn.apply(var == null ? "" : var.toString(), args);
            }
        };
    }

    private static String chars(String[] args) {
        return args.length > 0 && args[0] != null ? args[0] : null;
    }

    private static boolean strips(char c, String chars) {
        return chars == null ? Character.isWhitespace(c) : chars.indexOf(c) >= 0;
    }

    static String stripStart(String s, String chars) {
        int i = 0;
        while (i < s.length() && strips(s.charAt(i), chars)) {
            i++;
        }
        return s.substring(i);
    }

    static String stripEnd(String s, String chars) {
        int i = s.length();
        while (i > 0 && strips(s.charAt(i - 1), chars)) {
            i--;
        }
        return s.substring(0, i);
    }

    /** Python's {@code str.split(sep)}: literal separator, empty parts kept; no separator splits on whitespace runs. */
    static List<String> split(String s, String sep) {
        List<String> parts = new ArrayList<>();
        if (sep == null) {
            for (String p : s.strip().split("\\s+")) {
                if (!p.isEmpty()) {
                    parts.add(p);
                }
            }
            return parts;
        }
        if (sep.isEmpty()) {
            throw new ChatTemplateException("chat template: split() with an empty separator");
        }
        int from = 0;
        for (int at = s.indexOf(sep); at >= 0; at = s.indexOf(sep, from)) {
            parts.add(s.substring(from, at));
            from = at + sep.length();
        }
        parts.add(s.substring(from));
        return parts;
    }
}

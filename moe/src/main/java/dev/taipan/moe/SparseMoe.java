package dev.taipan.moe;

import dev.taipan.tensor.Block;
import dev.taipan.tensor.BlockState;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.RunOnce;
import dev.taipan.tensor.SessionLimits;
import dev.taipan.tensor.Tensor;
import java.util.Arrays;

/**
 * Sparse mixture-of-experts feed-forward block, llama.cpp's {@code build_moe_ffn}
 * (src/llama-graph.cpp, 34af94cd) plus the shared expert of the qwen2moe / granitemoe graphs
 * (src/models/*.cpp):
 * <ol>
 * <li>router logits {@code l = router x}, one per expert</li>
 * <li>each token's experts and weights ({@link Router}: gating, selection bias, groups, top-k,
 *     renormalisation, weight scale)</li>
 * <li>{@code out = sum_j w_j * down_j(act(gate_j x, up_j x))} over the chosen experts, summed in
 *     the order of choice as ggml does</li>
 * <li>with a shared expert: {@code out += shared(x)}, scaled by {@code sigmoid(sharedGate · x)}
 *     when it is gated (Qwen2-MoE)</li>
 * </ol>
 * Expert weights stay in their 3-D tensors; per-expert views are made once here. One token
 * (decode) touches only its chosen experts. When their count is a multiple of the threads, one
 * parallel pass gives each thread whole chosen experts (gate/up rows, activation, output rows) and
 * a slice of the shared expert's gate/up rows, then of its output rows once every slice's
 * activation is done; otherwise one pass computes a slice of every expert's gate/up rows and a
 * second a slice of every expert's output rows ({@link Parallel#forSliceParts}: a thread done with
 * its parts takes the last parts of the other's).
 * A batch (prefill) is grouped by expert: the rows routed to an expert are gathered, multiplied
 * by its weights once ({@link Tensor#matmul}), and added back with their weights, so each chosen
 * expert's weights are streamed once per batch. The batch path sums the experts of a token in
 * expert order, so it differs from the one-token path by rounding only.
 *
 * <p>Not implemented: expert biases, LLaMA-4 weighting before the FFN, clamped SwiGLU,
 * sqrt-softplus gating.
 */
public final class SparseMoe implements Block {
    private final MoeConfig config;
    private final MoeWeights weights;
    private final Kernels kernels;
    private final Parallel parallel;
    private final Router router;
    private final DenseFfn shared;
    private final MoeState.Sizes sizes;
    private final Tensor[] gateExperts; // nExpert views of (ff, dim), or null when ungated
    private final Tensor[] upExperts;   // nExpert views of (ff, dim)
    private final Tensor[] downExperts; // nExpert views of (dim, ff)

    public SparseMoe(MoeConfig config, MoeWeights weights, Kernels kernels, Parallel parallel) {
        this.config = config;
        this.weights = weights;
        this.kernels = kernels;
        this.parallel = parallel;
        Tensor r = weights.router();
        if (r.shape().rank() != 2) {
            throw new IllegalArgumentException("tensor '" + r.name() + "': expected (nExpert, dim), found " + r.shape());
        }
        int nExpert = Math.toIntExact(r.rows());
        int dim = r.cols();
        Tensor up = weights.upExps();
        if (up.shape().rank() != 3 || up.shape().dim(0) != nExpert || up.cols() != dim) {
            throw new IllegalArgumentException("tensor '" + up.name() + "': expected shape [" + nExpert
                    + ", ff, " + dim + "], found " + up.shape());
        }
        int ff = Math.toIntExact(up.shape().dim(1));
        checkExperts(weights.downExps(), nExpert, dim, ff);
        if (config.activation().gated() != (weights.gateExps() != null)) {
            throw new IllegalArgumentException("moe (" + up.name() + "): activation " + config.activation()
                    + (config.activation().gated() ? " needs gate experts" : " takes no gate experts"));
        }
        if (weights.gateExps() != null) {
            checkExperts(weights.gateExps(), nExpert, ff, dim);
        }
        checkRouting(config, nExpert, weights.selectionBias(), r.name());
        this.sizes = new MoeState.Sizes(dim, ff, nExpert, config.nExpertUsed(), config.nGroup(),
                config.activation().gated());
        this.router = new Router(config, nExpert, weights.selectionBias(), kernels);
        this.shared = weights.shared() == null ? null
                : new DenseFfn(weights.shared(), config.activation(), kernels, parallel);
        if (shared != null && shared.dim() != dim) {
            throw new IllegalArgumentException("tensor '" + weights.shared().up().name() + "': shared expert width "
                    + shared.dim() + " differs from the router's " + dim);
        }
        Tensor sg = weights.sharedGate();
        if (sg != null && (sg.shape().elementCount() != dim || sg.cols() != dim)) {
            throw new IllegalArgumentException("tensor '" + sg.name() + "': expected shape [" + dim + "], found "
                    + sg.shape());
        }
        this.gateExperts = weights.gateExps() == null ? null : slices(weights.gateExps(), nExpert);
        this.upExperts = slices(up, nExpert);
        this.downExperts = slices(weights.downExps(), nExpert);
    }

    private static void checkExperts(Tensor t, int nExpert, long rows, long cols) {
        if (t.shape().rank() != 3 || t.shape().dim(0) != nExpert || t.shape().dim(1) != rows || t.cols() != cols) {
            throw new IllegalArgumentException("tensor '" + t.name() + "': expected shape [" + nExpert + ", " + rows
                    + ", " + cols + "], found " + t.shape());
        }
    }

    private static void checkRouting(MoeConfig c, int nExpert, float[] bias, String name) {
        if (c.nExpertUsed() > nExpert) {
            throw new IllegalArgumentException("moe (" + name + "): " + c.nExpertUsed() + " experts used of "
                    + nExpert);
        }
        if (bias != null && bias.length != nExpert) {
            throw new IllegalArgumentException("moe (" + name + "): selection bias has " + bias.length
                    + " values for " + nExpert + " experts");
        }
        if (c.grouped()) {
            int per = nExpert / c.nGroup();
            if (nExpert % c.nGroup() != 0 || per < 2 || c.nExpertUsed() > c.topkGroup() * per) {
                throw new IllegalArgumentException("moe (" + name + "): " + nExpert + " experts cannot be split into "
                        + c.nGroup() + " groups of >= 2 with " + c.nExpertUsed() + " used from " + c.topkGroup()
                        + " groups");
            }
        }
    }

    private static Tensor[] slices(Tensor t, int n) {
        Tensor[] views = new Tensor[n];
        for (int e = 0; e < n; e++) {
            views[e] = t.slice(e);
        }
        return views;
    }

    public MoeConfig config() {
        return config;
    }

    public MoeWeights weights() {
        return weights;
    }

    /** Number of routed experts. */
    public int nExpert() {
        return sizes.nExpert();
    }

    @Override
    public MoeState newState(SessionLimits limits) {
        return new MoeState(this, limits.maxBatch(), sizes, shared == null ? null : shared.newState(limits),
                parallel.threads());
    }

    @Override
    public void forward(float[] out, float[] x, int nTokens, BlockState state) {
        MoeState s = stateOf(state);
        int dim = sizes.dim();
        checkCall(out, x, nTokens, s);
        if (nTokens == 0) {
            return;
        }
        if (nTokens == 1 && wholeExperts()) {
            // one token, whole experts per thread: router, routing and experts in one parallel pass
            s.decodeX = x;
            s.decodeOut = out;
            Tensor sg = weights.sharedGate();
            s.sharedGateValue = sg == null ? 1f : sigmoid(sg.dot(0, x, 0));
            s.routerRows.reset();
            s.routed.reset();
            s.sharedUp.reset();
            parallel.forSliceParts(fusedParts(), s.decodeFusedTask, null);
            // a slice's output rows come from both threads' experts: summed once all are done
            sumDown(s, 0, dim);
            s.decodeX = null;
            s.decodeOut = null;
            return;
        }
        // 1. router logits
        project(weights.router(), s.logits, x, nTokens);
        // 2. experts and weights of each token
        for (int t = 0; t < nTokens; t++) {
            router.route(t, s);
        }
        s.record(nTokens);
        if (nTokens == 1) {
            // 3-4. one token, slices of every expert: gate/up rows in one parallel pass, output rows in a second
            s.decodeX = x;
            s.decodeOut = out;
            parallel.forSliceParts(decodeParts(), s.decodeUpTask, null);
            Tensor sg = weights.sharedGate();
            s.sharedGateValue = sg == null ? 1f : sigmoid(sg.dot(0, x, 0));
            parallel.forSliceParts(decodeParts(), s.decodeDownTask, s.decodeDownSum);
            s.decodeX = null;
            s.decodeOut = null;
            return;
        }
        // 3. routed experts, grouped by expert
        batchExperts(out, x, nTokens, s);
        // 4. shared expert
        if (shared != null) {
            shared.forward(s.sharedOut, x, nTokens, s.sharedScratch);
            Tensor sg = weights.sharedGate();
            for (int t = 0; t < nTokens; t++) {
                if (sg == null) {
                    kernels.add(out, t * dim, s.sharedOut, t * dim, dim);
                } else {
                    kernels.axpy(out, t * dim, sigmoid(sg.dot(0, x, t * dim)), s.sharedOut, t * dim, dim);
                }
            }
        }
    }

    private static float sigmoid(float v) {
        return 1f / (1f + (float) Math.exp(-v));
    }

    private int sharedFf() {
        return shared == null ? 0 : shared.ff();
    }

    /**
     * Whether each thread computes whole chosen experts in the one-token pass (expert {@code j}
     * by slice {@code j % threads}): when the chosen experts divide evenly among the threads. A
     * whole expert's matrices are streams of a whole matrix each, where slices of every expert are
     * more streams, each a fraction as long; {@code KernelProbe pieces} (1024 x 1536 Q4_0 matrices,
     * 2 threads) reads 884 KB pieces 5-11 % faster than 442 KB ones (benchmarks/README.md).
     */
    private boolean wholeExperts() {
        return config.nExpertUsed() % parallel.threads() == 0;
    }

    /**
     * Parts of each slice of the sliced form's two one-token passes: a slice of every chosen expert,
     * then its slice of the shared expert if any.
     */
    private int decodeParts() {
        return routedParts() + (shared == null ? 0 : 1);
    }

    /**
     * The parts of each slice that compute chosen experts: whole experts ({@link #wholeExperts}),
     * or a slice of every one.
     */
    private int routedParts() {
        return wholeExperts() ? config.nExpertUsed() / parallel.threads() : config.nExpertUsed();
    }

    /**
     * Parts of each slice of the one pass of {@link #wholeExperts}: its slice of the router's rows;
     * with a shared expert, its slice of the shared expert's gate/up rows; its chosen experts; with a
     * shared expert, its slice of the shared expert's output rows.
     */
    private int fusedParts() {
        return 1 + routedParts() + (shared == null ? 0 : 2);
    }

    /**
     * Part {@code j} of slice {@code p} of the one-token pass of {@link #wholeExperts}
     * ({@link Parallel#forSliceParts}). The router's rows come first, then (not needing the routing)
     * the shared expert's gate/up rows. A chosen expert's part first makes sure that the token is
     * routed: every slice's router rows done, then the routing, by the first thread to need it
     * ({@link RunOnce}). It then computes the expert's gate and up rows, their activation and its
     * output rows on one thread, so the expert needs no pass of its own for the output rows. The
     * shared expert's output rows need all of its activation: slice p's output rows first make sure
     * that every slice's gate/up part has run. Every value is computed as in the sliced form's
     * passes, so the sum is the same floats (and the router's logits those of its matvec).
     */
    void decodeFusedPart(MoeState s, int p, int j) {
        int threads = parallel.threads();
        int routed = routedParts();
        int firstExpert = shared == null ? 1 : 2;
        if (j == 0) {
            s.routerRows.run(p, s.routerRowsTask);
        } else if (j < firstExpert) {
            s.sharedUp.run(p, s.sharedUpTask);
        } else if (j < firstExpert + routed) {
            awaitRouting(s);
            decodeExpert(s, (j - firstExpert) * threads + p);
        } else {
            s.sharedUp.awaitAll(s.sharedUpTask);
            int dim = sizes.dim();
            int from = Parallel.sliceStart(dim, p, threads);
            int to = Parallel.sliceStart(dim, p + 1, threads);
            if (from < to) {
                decodeDown(s, config.nExpertUsed(), from, to);
            }
        }
    }

    /** Router rows of slice {@code q} (an even split, in fours) of the one-token pass. */
    void decodeRouterRows(MoeState s, int q) {
        Tensor r = weights.router();
        int rows = Math.toIntExact(r.rows());
        int threads = parallel.threads();
        int from = q == 0 ? 0 : (int) ((long) rows * q / threads) & ~3;
        int to = q + 1 == threads ? rows : (int) ((long) rows * (q + 1) / threads) & ~3;
        if (from < to) {
            r.dotRows(from, to - from, s.decodeX, 0, s.logits, from);
        }
    }

    /** The one-token routing, once every slice's router rows are done (run by one thread). */
    void decodeRoute(MoeState s) {
        router.route(0, s);
        s.record(1);
    }

    /** Waits until the token is routed, computing any router rows or the routing not yet claimed. */
    private void awaitRouting(MoeState s) {
        s.routerRows.awaitAll(s.routerRowsTask);
        s.routed.awaitAll(s.routeTask);
    }

    /** Chosen expert {@code e} (in order of choice) whole: gate, up, activation, output rows. */
    private void decodeExpert(MoeState s, int e) {
        int ff = sizes.ff();
        decodeUpRows(s, e * ff, (e + 1) * ff);
        decodeDown(s, e, 0, sizes.dim());
    }

    /** Slice {@code q} of the shared expert's gate/up rows and their activation. */
    void decodeSharedUp(MoeState s, int q) {
        decodeUpSlice(s, config.nExpertUsed() * sizes.ff(), sharedFf(), q);
    }

    /**
     * Part {@code j} of slice {@code p} of the up pass of the sliced form
     * ({@link Parallel#forSliceParts}, chosen experts not a multiple of the threads): slice p
     * ({@link Parallel#sliceStart}) of chosen expert j's rows; for the last part with a shared
     * expert, slice p of its rows. Each time the gate rows, then the up rows, then the activation
     * of those rows.
     */
    void decodeUpPart(MoeState s, int p, int j) {
        int ff = sizes.ff();
        if (j >= routedParts()) {
            decodeSharedUp(s, p);
        } else {
            decodeUpSlice(s, j * ff, ff, p);
        }
    }

    /** Slice {@code p} of the {@code rows} up-pass rows from {@code first} (one expert's). */
    private void decodeUpSlice(MoeState s, int first, int rows, int p) {
        int slices = parallel.threads();
        decodeUpRows(s, first + Parallel.sliceStart(rows, p, slices), first + Parallel.sliceStart(rows, p + 1, slices));
    }

    /** Up-pass rows [from, to) (of one expert): gate, up, activation. */
    private void decodeUpRows(MoeState s, int from, int to) {
        if (from < to) {
            decodeUp(s, from, to, gateExperts != null, true);
            if (gateExperts != null) {
                activate(s, from, to);
            }
        }
    }

    /**
     * Part {@code part} of slice {@code p} of the down pass of the sliced form
     * ({@link Parallel#forSliceParts}): slice p of the output rows of chosen expert {@code part};
     * for the last part with a shared expert, slice p of its output rows.
     */
    void decodeDownPart(MoeState s, int p, int part) {
        int dim = sizes.dim();
        int slices = parallel.threads();
        int k = config.nExpertUsed();
        int from = Parallel.sliceStart(dim, p, slices);
        int to = Parallel.sliceStart(dim, p + 1, slices);
        if (from < to) {
            decodeDown(s, part < routedParts() ? part : k, from, to);
        }
    }

    /** Slice {@code p} of the down pass once all its parts are done: their sum ({@link #sumDown}). */
    void decodeDownSum(MoeState s, int p) {
        int dim = sizes.dim();
        int slices = parallel.threads();
        int from = Parallel.sliceStart(dim, p, slices);
        int to = Parallel.sliceStart(dim, p + 1, slices);
        if (from < to) {
            sumDown(s, from, to);
        }
    }

    /**
     * One token: rows [start, end) of the gate ({@code gateRows}) and/or up ({@code upRows})
     * projections of all chosen experts, then of the shared expert; without a gate, followed by the
     * activation.
     */
    void decodeUp(MoeState s, int start, int end, boolean gateRows, boolean upRows) {
        int ff = sizes.ff();
        int routed = config.nExpertUsed() * ff;
        int split = Math.max(start, Math.min(end, routed));
        // runs of rows of one expert at a time, so multi-row kernels stream them together
        for (int i = start; i < split; ) {
            int j = i / ff;
            int r = i - j * ff;
            int n = Math.min(split, (j + 1) * ff) - i;
            int e = s.selected[j];
            if (gateRows) {
                gateExperts[e].dotRows(r, n, s.decodeX, 0, s.gate, i);
            }
            if (upRows) {
                upExperts[e].dotRows(r, n, s.decodeX, 0, s.up, i);
            }
            i += n;
        }
        if (split < end) {
            FfnWeights sw = weights.shared();
            DenseFfn.Scratch ss = s.sharedScratch;
            int r0 = split - routed;
            if (gateRows) {
                sw.gate().dotRows(r0, end - split, s.decodeX, 0, ss.gate, r0);
            }
            if (upRows) {
                sw.up().dotRows(r0, end - split, s.decodeX, 0, ss.up, r0);
            }
        }
        if (gateExperts == null) {
            activate(s, start, end);
        }
    }

    /** The activation of rows [start, end) of the up pass (chosen experts, then the shared expert). */
    private void activate(MoeState s, int start, int end) {
        int routed = config.nExpertUsed() * sizes.ff();
        int split = Math.max(start, Math.min(end, routed));
        if (split > start) {
            config.activation().apply(kernels, s.gate, s.up, start, split - start);
        }
        if (split < end) {
            DenseFfn.Scratch ss = s.sharedScratch;
            config.activation().apply(kernels, ss.gate, ss.up, split - routed, end - split);
        }
    }

    /**
     * One token: output rows [start, end) of down matrix {@code part} (chosen expert {@code part} in
     * order of choice, or the shared expert when {@code part} is {@code nExpertUsed}) into
     * {@code downRows}.
     */
    void decodeDown(MoeState s, int part, int start, int end) {
        int ff = sizes.ff();
        int dim = sizes.dim();
        int k = config.nExpertUsed();
        int n = end - start;
        if (part < k) {
            float[] h = gateExperts != null ? s.gate : s.up;
            downExperts[s.selected[part]].dotRows(start, n, h, part * ff, s.downRows, part * dim + start);
        } else {
            float[] sh = gateExperts != null ? s.sharedScratch.gate : s.sharedScratch.up;
            weights.shared().down().dotRows(start, n, sh, 0, s.downRows, k * dim + start);
        }
    }

    /**
     * Output rows [start, end): the weighted sum over the chosen experts in order of choice, then
     * plus the (gated) shared expert, as ggml adds them.
     */
    void sumDown(MoeState s, int start, int end) {
        int dim = sizes.dim();
        int k = config.nExpertUsed();
        int n = end - start;
        float[] rows = s.downRows;
        float[] out = s.decodeOut;
        // per row 0 + w_0 d_0 + w_1 d_1 + ..., each a product then an add: axpy's floats, a vector of rows at a time
        Arrays.fill(out, start, end, 0f);
        for (int j = 0; j < k; j++) {
            kernels.axpy(out, start, s.weights[j], rows, j * dim + start, n);
        }
        if (shared != null) {
            kernels.axpy(out, start, s.sharedGateValue, rows, k * dim + start, n);
        }
    }

    /** A batch: tokens grouped by expert, one matmul per chosen expert and projection. */
    private void batchExperts(float[] out, float[] x, int nTokens, MoeState s) {
        int dim = sizes.dim();
        int ff = sizes.ff();
        int k = config.nExpertUsed();
        int nExpert = sizes.nExpert();
        int n = nTokens * k;
        // group the (token, slot) pairs by expert, tokens in order (counting sort)
        Arrays.fill(s.expertStart, 0);
        for (int i = 0; i < n; i++) {
            s.expertStart[s.selected[i] + 1]++;
        }
        for (int e = 0; e < nExpert; e++) {
            s.expertStart[e + 1] += s.expertStart[e];
        }
        System.arraycopy(s.expertStart, 0, s.cursor, 0, nExpert);
        for (int i = 0; i < n; i++) {
            s.assignments[s.cursor[s.selected[i]]++] = i;
        }
        Arrays.fill(out, 0, nTokens * dim, 0f);
        for (int e = 0; e < nExpert; e++) {
            int from = s.expertStart[e];
            int count = s.expertStart[e + 1] - from;
            if (count == 0) {
                continue;
            }
            // gather the rows of the tokens routed to e
            for (int i = 0; i < count; i++) {
                int t = s.assignments[from + i] / k;
                System.arraycopy(x, t * dim, s.gathered, i * dim, dim);
            }
            if (gateExperts != null) {
                project(gateExperts[e], s.gate, s.gathered, count);
            }
            project(upExperts[e], s.up, s.gathered, count);
            float[] h = config.activation().apply(kernels, s.gate, s.up, 0, count * ff);
            project(downExperts[e], s.expertOut, h, count);
            // scatter-add with each token's weight for e
            for (int i = 0; i < count; i++) {
                int a = s.assignments[from + i];
                kernels.axpy(out, (a / k) * dim, s.weights[a], s.expertOut, i * dim, dim);
            }
        }
    }

    private void project(Tensor w, float[] dst, float[] src, int nTokens) {
        if (nTokens == 1) {
            w.matvec(dst, src, parallel);
        } else {
            w.matmul(dst, src, nTokens, parallel);
        }
    }

    private MoeState stateOf(BlockState state) {
        if (!(state instanceof MoeState s) || s.owner != this) {
            throw new IllegalArgumentException("moe (" + weights.router().name()
                    + "): state was not created by this block's newState");
        }
        return s;
    }

    private void checkCall(float[] out, float[] x, int nTokens, MoeState s) {
        if (nTokens < 0 || nTokens > s.maxBatch) {
            throw new IllegalArgumentException("moe (" + weights.router().name() + "): " + nTokens
                    + " tokens in one call, the session's batch limit is " + s.maxBatch);
        }
        long need = (long) nTokens * sizes.dim();
        if (x.length < need || out.length < need) {
            throw new IllegalArgumentException("moe (" + weights.router().name() + "): " + nTokens
                    + " tokens of width " + sizes.dim() + " need " + need + " values, x has " + x.length
                    + " and out " + out.length);
        }
        if (out == x) {
            throw new IllegalArgumentException("moe: out and x must be different arrays");
        }
    }
}

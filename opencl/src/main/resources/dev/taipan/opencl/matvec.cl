// Taipan OpenCL kernels: out[t * rows + r] = W[r] . x[t * cols ..] for weights stored as in GGUF
// (little-endian; block layouts of ggml-common.h: block_q8_0 = fp16 d + int8 q[32], 34 bytes;
// block_q4_0 = fp16 d + 16 bytes of nibbles, weight j in the low nibble of byte j and weight j+16
// in the high nibble, value d * (q - 8)). Same math as dev.taipan.quant.Q8_0Tensor/Q4_0Tensor.
//
// One work-group of WG work-items per (row, tile of TT tokens): get_group_id(0) is the row,
// get_global_id(1) the tile. Each work-item takes a strided share of the row (elements for
// F32/F16, blocks for the quant formats), reads each weight once and multiplies it with the TT
// tokens of the tile (weights are streamed once per tile, not once per token), then the group adds
// the partial sums of each token in local memory (tree reduction).
// w_off is the byte offset of the matrix inside the buffer (a slice of a 3-D expert tensor).
// WG (a power of two) and TT are passed with -D.

float group_sum(__local float* part, float v) {
    int lid = get_local_id(0);
    barrier(CLK_LOCAL_MEM_FENCE);
    part[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = WG / 2; s > 0; s >>= 1) {
        if (lid < s) {
            part[lid] += part[lid + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return part[0];
}

// Reduces acc[0..TT) over the group and stores the tile's outputs (work-item 0).
#define STORE_TILE(acc, out, r, rows, t0, nt) \
    for (int tt = 0; tt < TT; tt++) { \
        float sum = group_sum(part, acc[tt]); \
        if (get_local_id(0) == 0 && tt < nt) { \
            out[(ulong) (t0 + tt) * rows + r] = sum; \
        } \
    }

#define TILE_SETUP \
    __local float part[WG]; \
    int r = get_group_id(0); \
    int t0 = get_global_id(1) * TT; \
    int nt = min(TT, n_tokens - t0); \
    float acc[TT]; \
    for (int tt = 0; tt < TT; tt++) { \
        acc[tt] = 0.0f; \
    }

__kernel void matvec_f32(__global const uchar* w, ulong w_off, __global const float* x,
                         __global float* out, int cols, int rows, int n_tokens) {
    TILE_SETUP
    __global const float* row = (__global const float*) (w + w_off + (ulong) r * cols * 4);
    for (int i = get_local_id(0); i < cols; i += WG) {
        float wi = row[i];
        for (int tt = 0; tt < nt; tt++) {
            acc[tt] = fma(wi, x[(ulong) (t0 + tt) * cols + i], acc[tt]);
        }
    }
    STORE_TILE(acc, out, r, rows, t0, nt)
}

__kernel void matvec_f16(__global const uchar* w, ulong w_off, __global const float* x,
                         __global float* out, int cols, int rows, int n_tokens) {
    TILE_SETUP
    __global const half* row = (__global const half*) (w + w_off + (ulong) r * cols * 2);
    for (int i = get_local_id(0); i < cols; i += WG) {
        float wi = vload_half(i, row);
        for (int tt = 0; tt < nt; tt++) {
            acc[tt] = fma(wi, x[(ulong) (t0 + tt) * cols + i], acc[tt]);
        }
    }
    STORE_TILE(acc, out, r, rows, t0, nt)
}

__kernel void matvec_q8_0(__global const uchar* w, ulong w_off, __global const float* x,
                          __global float* out, int cols, int rows, int n_tokens) {
    TILE_SETUP
    int nb = cols / 32;
    __global const uchar* row = w + w_off + (ulong) r * nb * 34;
    float q[32];
    for (int b = get_local_id(0); b < nb; b += WG) {
        __global const uchar* blk = row + b * 34;
        __global const char* qs = (__global const char*) (blk + 2);
        for (int j = 0; j < 32; j++) {
            q[j] = (float) qs[j];
        }
        float d = vload_half(0, (__global const half*) blk);
        for (int tt = 0; tt < nt; tt++) {
            __global const float* xb = x + (ulong) (t0 + tt) * cols + b * 32;
            float s = 0.0f;
            for (int j = 0; j < 32; j++) {
                s = fma(q[j], xb[j], s);
            }
            acc[tt] = fma(d, s, acc[tt]);
        }
    }
    STORE_TILE(acc, out, r, rows, t0, nt)
}

__kernel void matvec_q4_0(__global const uchar* w, ulong w_off, __global const float* x,
                          __global float* out, int cols, int rows, int n_tokens) {
    TILE_SETUP
    int nb = cols / 32;
    __global const uchar* row = w + w_off + (ulong) r * nb * 18;
    float q[32];
    for (int b = get_local_id(0); b < nb; b += WG) {
        __global const uchar* blk = row + b * 18;
        for (int j = 0; j < 16; j++) {
            uchar v = blk[2 + j];
            q[j] = (float) ((int) (v & 0x0F) - 8);
            q[j + 16] = (float) ((int) (v >> 4) - 8);
        }
        float d = vload_half(0, (__global const half*) blk);
        for (int tt = 0; tt < nt; tt++) {
            __global const float* xb = x + (ulong) (t0 + tt) * cols + b * 32;
            float s = 0.0f;
            for (int j = 0; j < 32; j++) {
                s = fma(q[j], xb[j], s);
            }
            acc[tt] = fma(d, s, acc[tt]);
        }
    }
    STORE_TILE(acc, out, r, rows, t0, nt)
}

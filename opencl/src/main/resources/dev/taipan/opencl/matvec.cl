// Taipan OpenCL kernels: out[t * rows + r] = W[r] . x[t * cols ..] for weights stored as in GGUF
// (little-endian; block layouts of ggml-common.h: block_q8_0 = fp16 d + int8 q[32], 34 bytes;
// block_q4_0 = fp16 d + 16 bytes of nibbles, weight j in the low nibble of byte j and weight j+16
// in the high nibble, value d * (q - 8)). Same math as dev.taipan.quant.Q8_0Tensor/Q4_0Tensor.
//
// One work-group of WG work-items per (row, token): get_group_id(0) is the row, get_global_id(1)
// the token. Each work-item sums a strided share of the row (elements for F32/F16, blocks for the
// quant formats), then the group adds the partial sums in local memory (tree reduction).
// w_off is the byte offset of the matrix inside the buffer (a slice of a 3-D expert tensor).
// WG is a power of two passed with -DWG=...

float group_sum(__local float* part, float v) {
    int lid = get_local_id(0);
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

__kernel void matvec_f32(__global const uchar* w, ulong w_off, __global const float* x,
                         __global float* out, int cols, int rows) {
    __local float part[WG];
    int r = get_group_id(0);
    int t = get_global_id(1);
    __global const float* row = (__global const float*) (w + w_off + (ulong) r * cols * 4);
    __global const float* xt = x + (ulong) t * cols;
    float acc = 0.0f;
    for (int i = get_local_id(0); i < cols; i += WG) {
        acc = fma(row[i], xt[i], acc);
    }
    float sum = group_sum(part, acc);
    if (get_local_id(0) == 0) {
        out[(ulong) t * rows + r] = sum;
    }
}

__kernel void matvec_f16(__global const uchar* w, ulong w_off, __global const float* x,
                         __global float* out, int cols, int rows) {
    __local float part[WG];
    int r = get_group_id(0);
    int t = get_global_id(1);
    __global const half* row = (__global const half*) (w + w_off + (ulong) r * cols * 2);
    __global const float* xt = x + (ulong) t * cols;
    float acc = 0.0f;
    for (int i = get_local_id(0); i < cols; i += WG) {
        acc = fma(vload_half(i, row), xt[i], acc);
    }
    float sum = group_sum(part, acc);
    if (get_local_id(0) == 0) {
        out[(ulong) t * rows + r] = sum;
    }
}

__kernel void matvec_q8_0(__global const uchar* w, ulong w_off, __global const float* x,
                          __global float* out, int cols, int rows) {
    __local float part[WG];
    int r = get_group_id(0);
    int t = get_global_id(1);
    int nb = cols / 32;
    __global const uchar* row = w + w_off + (ulong) r * nb * 34;
    __global const float* xt = x + (ulong) t * cols;
    float acc = 0.0f;
    for (int b = get_local_id(0); b < nb; b += WG) {
        __global const uchar* blk = row + b * 34;
        __global const char* q = (__global const char*) (blk + 2);
        __global const float* xb = xt + b * 32;
        float s = 0.0f;
        for (int j = 0; j < 32; j++) {
            s = fma((float) q[j], xb[j], s);
        }
        acc = fma(vload_half(0, (__global const half*) blk), s, acc);
    }
    float sum = group_sum(part, acc);
    if (get_local_id(0) == 0) {
        out[(ulong) t * rows + r] = sum;
    }
}

__kernel void matvec_q4_0(__global const uchar* w, ulong w_off, __global const float* x,
                          __global float* out, int cols, int rows) {
    __local float part[WG];
    int r = get_group_id(0);
    int t = get_global_id(1);
    int nb = cols / 32;
    __global const uchar* row = w + w_off + (ulong) r * nb * 18;
    __global const float* xt = x + (ulong) t * cols;
    float acc = 0.0f;
    for (int b = get_local_id(0); b < nb; b += WG) {
        __global const uchar* blk = row + b * 18;
        __global const float* xb = xt + b * 32;
        float s = 0.0f;
        for (int j = 0; j < 16; j++) {
            uchar q = blk[2 + j];
            s = fma((float) ((int) (q & 0x0F) - 8), xb[j], s);
            s = fma((float) ((int) (q >> 4) - 8), xb[j + 16], s);
        }
        acc = fma(vload_half(0, (__global const half*) blk), s, acc);
    }
    float sum = group_sum(part, acc);
    if (get_local_id(0) == 0) {
        out[(ulong) t * rows + r] = sum;
    }
}

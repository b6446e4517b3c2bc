/**
 * ggml quantized weights as {@link dev.taipan.tensor.Tensor}s: one class per block format
 * (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, MXFP4), each with a
 * bit-exact dequantizer and a fused dequant-dot kernel (Vector API, with a scalar twin).
 *
 * <p>Entry points: {@link dev.taipan.quant.TensorFactory#create} turns (name, type, shape, bytes)
 * into the right tensor, F32/F16/BF16 included; {@link dev.taipan.quant.Quantizer} writes Q8_0 and
 * Q4_0 bytes identical to ggml's reference quantizers.
 */
package dev.taipan.quant;

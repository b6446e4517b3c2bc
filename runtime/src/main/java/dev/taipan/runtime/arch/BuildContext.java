package dev.taipan.runtime.arch;

import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;

/** What an architecture needs to build a network besides the weights: kernels and the worker pool. */
public record BuildContext(Kernels kernels, Parallel parallel) {
}

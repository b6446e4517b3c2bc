package dev.taipan.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Failures that need no OpenCL platform: a missing library, and the names of status codes. */
class ClLoadTest {

    @Test
    void missingLibraryIsNamedWithWhatToInstall() {
        OpenClException e = assertThrows(OpenClException.class, () -> Cl.load("libNoSuchOpenCL.so.1"));
        assertTrue(e.getMessage().startsWith("cannot load libNoSuchOpenCL.so.1 (install an OpenCL ICD loader"),
                e.getMessage());
    }

    @Test
    void statusCodesAreNamed() {
        assertEquals("clEnqueueNDRangeKernel failed: CL_INVALID_WORK_GROUP_SIZE (-54)",
                OpenClException.of("clEnqueueNDRangeKernel", -54, null).getMessage());
        assertEquals("clCreateBuffer failed: CL_MEM_OBJECT_ALLOCATION_FAILURE (-4): tensor 'w', 8 bytes",
                OpenClException.of("clCreateBuffer", -4, "tensor 'w', 8 bytes").getMessage());
        assertEquals("clFinish failed: unknown OpenCL status (-9999)",
                OpenClException.of("clFinish", -9999, null).getMessage());
    }
}

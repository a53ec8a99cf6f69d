# Bare-metal build for Cortex-M4 with its single-precision FPU (doubles in software): the
# static library only (cortex-m-common.cmake). Debian packages as for cortex-m7.cmake.
#   cmake -S . -B build-cortex-m4 -DCMAKE_TOOLCHAIN_FILE=cmake/cortex-m4.cmake -DCMAKE_BUILD_TYPE=MinSizeRel
set(_ember_cpu_flags "-mcpu=cortex-m4 -mfpu=fpv4-sp-d16")
include(${CMAKE_CURRENT_LIST_DIR}/cortex-m-common.cmake)

# Bare-metal build for Cortex-M7 with double-precision FPU (Debian: gcc-arm-none-eabi
# libstdc++-arm-none-eabi-dev libnewlib-dev): the static library only (cortex-m-common.cmake).
#   cmake -S . -B build-cortex-m7 -DCMAKE_TOOLCHAIN_FILE=cmake/cortex-m7.cmake -DCMAKE_BUILD_TYPE=MinSizeRel
set(_ember_cpu_flags "-mcpu=cortex-m7 -mfpu=fpv5-d16")
include(${CMAKE_CURRENT_LIST_DIR}/cortex-m-common.cmake)

# Cross build for 32-bit ARMv7-A Linux, hard float, with NEON and VFPv4 (FMA), e.g. Cortex-A7
# boards (Debian: g++-arm-linux-gnueabihf, qemu-user).
#   cmake -S . -B build-armv7 -DCMAKE_TOOLCHAIN_FILE=cmake/armv7.cmake
# ctest runs the tests under qemu-arm -cpu cortex-a7, which rejects instructions that CPU lacks.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7-a)

set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)

# Debian's armhf default has no NEON; neon-vfpv4 adds NEON with FMA. -Wno-psabi silences
# GCC's notes about a parameter-passing ABI change in GCC 7.1 (nothing to act on).
set(_ember_arm_flags "-march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard -Wno-psabi")
set(CMAKE_C_FLAGS_INIT "${_ember_arm_flags}")
set(CMAKE_CXX_FLAGS_INIT "${_ember_arm_flags}")

set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm -cpu cortex-a7 -L /usr/arm-linux-gnueabihf)

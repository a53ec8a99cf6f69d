# What the bare-metal Cortex-M toolchain files (cortex-m7.cmake, cortex-m4.cmake) share; each
# sets _ember_cpu_flags (CPU and FPU) and includes this. Builds the static library only: with
# CMAKE_SYSTEM_NAME Generic, ember defaults to EMBER_THREADS=OFF and no tests or bench.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
# No OS to link a test program against: compiler checks build a static library instead.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# -fno-threadsafe-statics / -fno-use-cxa-atexit: no guard or atexit calls for statics;
# -fno-math-errno: sqrtf becomes vsqrt.f32 instead of a libm call; sections let the
# firmware's linker drop what it does not use (--gc-sections).
set(_ember_m_flags "-mthumb ${_ember_cpu_flags} -mfloat-abi=hard -fno-math-errno -ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_INIT "${_ember_m_flags}")
set(CMAKE_CXX_FLAGS_INIT "${_ember_m_flags} -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-use-cxa-atexit")

set(CMAKE_FIND_ROOT_PATH /usr/lib/arm-none-eabi)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

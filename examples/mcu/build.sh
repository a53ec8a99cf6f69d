#!/usr/bin/env bash
# Builds the bare-metal sampling firmware (firmware.cpp) for a Cortex-M7 on QEMU's
# mps2-an500 board (MCU_CPU=m4: a Cortex-M4 on mps2-an386) around one sampler file, and runs
# it there (Debian: gcc-arm-none-eabi, libnewlib-arm-none-eabi, libstdc++-arm-none-eabi-dev,
# qemu-system-arm).
#
#   examples/mcu/build.sh MODEL.ember NAME [OUT_DIR]     (default build-mcu)
#
# 1. the library for the CPU (cmake/cortex-m7.cmake or cortex-m4.cmake, MinSizeRel) into
#    build-cortex-m7/ (or -m4/), brought up to date;
# 2. the sampler file OUT_DIR/NAME.ember (`ember export --weights ${MCU_WEIGHTS:-int8}`: int8
#    weights per output channel, read in place from flash; f32 for float weights, copied into
#    RAM) and the same as a C array (`ember export --c-array`, from the host's build/ember);
# 3. the static buffer sized by the host's dry run (example-sample-on-device --in-place prints
#    the RAM the model needs beside its file; the firmware's own 32-bit tables are no larger);
# 4. firmware.elf linked with mps2.ld (no heap: newlib-nano without malloc is linked
#    only for memcpy/memset and libm), then run under qemu-system-arm with a time limit;
#    its output in OUT_DIR/NAME.out;
# 5. one line of sizes: mcu: NAME text= rodata= data= bss= stack= flash= ram= (bytes; flash =
#    text + rodata + data, ram = data + bss (the static buffer included) + the stack's peak,
#    measured by painting it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
model=$1 name=$2 out=${3:-build-mcu}
samples=${MCU_SAMPLES:-4}
mkdir -p "$out"

cpu=${MCU_CPU:-m7}
case $cpu in
  m7) board=mps2-an500 cpu_flags=(-mcpu=cortex-m7 -mfpu=fpv5-d16) ;;
  m4) board=mps2-an386 cpu_flags=(-mcpu=cortex-m4 -mfpu=fpv4-sp-d16) ;;
  *) echo "mcu: MCU_CPU is m7 or m4, not '$cpu'" >&2; exit 2 ;;
esac
lib=build-cortex-$cpu
[ -f "$lib/CMakeCache.txt" ] ||
  cmake -S . -B "$lib" -DCMAKE_TOOLCHAIN_FILE="cmake/cortex-$cpu.cmake" -DCMAKE_BUILD_TYPE=MinSizeRel >/dev/null
cmake --build "$lib" >/dev/null
build/ember export --model "$model" --weights "${MCU_WEIGHTS:-int8}" --out "$out/$name.ember" >/dev/null
sampler=$out/$name.ember
build/ember export --model "$sampler" --c-array "${name//-/_}" --out "$out/$name-sampler.h" >/dev/null
# The model's bytes on the host beside its file in memory (64-bit tables: no smaller than the
# firmware's), plus the samples and their labels, plus 1 KiB for the buffer's alignment.
need=$(EMBER_ISA=scalar build/example-sample-on-device "$sampler" --n "$samples" --ascii --in-place 2>&1 >/dev/null |
  sed -n 's/.*needs \([0-9]*\) bytes.*/\1/p')
[ -n "$need" ] || { echo "mcu: cannot size $sampler" >&2; exit 1; }
arena=$(( (need + 1024 + 63) / 64 * 64 ))

FLAGS=(-mthumb "${cpu_flags[@]}" -mfloat-abi=hard -Os -std=c++17 -fno-exceptions -fno-rtti
  -fno-threadsafe-statics -fno-use-cxa-atexit -fno-math-errno -ffp-contract=off -ffunction-sections -fdata-sections
  -Wall -Wextra -Werror -I. -DEMBER_NO_THREADS)
objs=()
for src in firmware startup semihosting; do
  arm-none-eabi-g++ "${FLAGS[@]}" -DSAMPLER_HEADER="\"$out/$name-sampler.h\"" -DSAMPLER_NAME="${name//-/_}" \
    -DEMBER_MCU_ARENA="$arena" -DEMBER_MCU_SAMPLES="$samples" -c "examples/mcu/$src.cpp" -o "$out/$name-$src.o"
  objs+=("$out/$name-$src.o")
done
# Linked by the C driver: no C++ runtime library is needed (no exceptions, RTTI, new or
# delete), only libc's memcpy/memset/strlen and libm.
arm-none-eabi-gcc "${FLAGS[@]:0:4}" -nostartfiles -T examples/mcu/mps2.ld -Wl,--gc-sections \
  -Wl,-Map="$out/$name.map" --specs=nano.specs --specs=nosys.specs "${objs[@]}" "$lib/libember.a" -lm \
  -o "$out/$name.elf"

timeout "${MCU_TIMEOUT:-300}" qemu-system-arm -M "$board" -nographic -monitor none -serial none \
  -semihosting-config enable=on,target=native -kernel "$out/$name.elf" >"$out/$name.out" 2>&1

# The samples against the native scalar sampler's on the same file and seed: the art exactly,
# each sample's pixel sum to within 1e-4 (another libm's exp or tanh may differ in the last
# bits), and whether the two agree bit for bit (the hash).
EMBER_ISA=scalar build/example-sample-on-device "$sampler" --n "$samples" --seed 1 --digest --in-place 2>/dev/null \
  >"$out/$name.native"
diff <(grep -v -E '^(hash|sum [0-9]+|arena|stack peak):' "$out/$name.out") \
  <(grep -v -E '^(hash|sum [0-9]+):' "$out/$name.native") >/dev/null ||
  { echo "mcu: $name: the firmware's samples differ from the native sampler's (art)" >&2; exit 1; }
paste <(sed -n 's/^sum [0-9]*: //p' "$out/$name.out") <(sed -n 's/^sum [0-9]*: //p' "$out/$name.native") |
  awk -v n="$samples" '{ d = $1 - $2; if (d < 0) d = -d; if (d > 100) bad = 1; k++ }
                       END { exit (bad || k != n) }' ||
  { echo "mcu: $name: the firmware's samples differ from the native sampler's (pixel sums)" >&2; exit 1; }
if [ "$(grep '^hash:' "$out/$name.out")" = "$(grep '^hash:' "$out/$name.native")" ]; then
  echo "mcu: $name: $samples samples equal the native scalar sampler's bit for bit"
else
  echo "mcu: $name: $samples samples equal the native scalar sampler's to 1e-4 per sample sum (not bit for bit: libm)"
fi

section() { arm-none-eabi-size -A "$out/$name.elf" | awk -v s="$1" '$1 == s {print $2}'; }
text=$(( $(section .isr_vector) + $(section .text) + $(section .ARM.exidx || echo 0) ))
rodata=$(section .rodata) data=$(section .data) bss=$(section .bss)
stack=$(sed -n 's/^stack peak: \([0-9]*\) bytes/\1/p' "$out/$name.out")
# ember's own code: the .text input sections the linker took from libember.a.
ember_text=0
while read -r size; do ember_text=$((ember_text + size)); done < <(awk '
  /^Linker script and memory map/ { mapped = 1 }
  mapped && /^ \.text/ { in_text = 1 } /^ \.[a-z]/ && !/^ \.text/ { in_text = 0 }
  in_text && /libember\.a\(/ { for (i = 1; i < NF; ++i) if ($i ~ /^0x/ && $(i+1) ~ /libember/) print $i }' "$out/$name.map")
echo "mcu: $name text=$text rodata=$rodata data=$data bss=$bss stack=$stack flash=$((text + rodata + data))" \
  "ram=$((data + bss + stack)) ember_text=$ember_text"

/* Samples from a trained generator through ember's C interface (capi/ember-c.h): what a game
 * engine's plugin would do. C99; links against build/libember.a (with the C++ runtime) or
 * build/libember.so.
 *
 *   gcc -std=c99 -Wall -Werror -I capi examples/c-api/sample.c build/libember.a -lstdc++ -lm -pthread -o sample
 *   ./sample SAMPLER.ember [N] [SEED] [LABEL]
 *
 * Prints the samples as ASCII art, one after another, then their digest: the FNV-1a hash of
 * the images' bytes and each image's pixel sum in millionths, as example-sample-on-device
 * --digest prints them (CI compares the two). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ember-c.h"

static unsigned char* read_file(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  unsigned char* data = NULL;
  long n = -1;
  if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
  if (n > 0 && fseek(f, 0, SEEK_SET) == 0) data = malloc((size_t)n);
  if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
    free(data);
    data = NULL;
  }
  fclose(f);
  *size = data ? (size_t)n : 0;
  return data;
}

static int fail(const char* what, const ember_error* err) {
  fprintf(stderr, "sample: %s: %s (%s)\n", what, err->message, ember_code_name(err->code));
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s SAMPLER.ember [N] [SEED] [LABEL]\n", argv[0]);
    return 2;
  }
  const int n = argc > 2 ? atoi(argv[2]) : 4;
  const uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
  const int label = argc > 4 ? atoi(argv[4]) : -1;
  size_t file_size = 0;
  unsigned char* file = read_file(argv[1], &file_size);
  if (!file) {
    fprintf(stderr, "sample: cannot read %s\n", argv[1]);
    return 1;
  }
  /* Ask how big the buffer must be (a small first buffer is enough to measure), then open. */
  ember_error err;
  ember_sampler* s = NULL;
  size_t need = 0;
  void* probe = malloc(1 << 20);
  if (ember_sampler_open(file, file_size, 1, probe, 1 << 20, &s, &need, &err) == EMBER_OK) {
    ember_sampler_close(s);
  } else if (err.code != EMBER_OUT_OF_MEMORY || need == 0) {
    return fail("open", &err);
  }
  free(probe);
  void* buffer = malloc(need ? need : (size_t)1 << 20);
  if (ember_sampler_open(file, file_size, 1, buffer, need ? need : (size_t)1 << 20, &s, NULL, &err) != EMBER_OK)
    return fail("open", &err);
  free(file); /* the sampler holds everything it needs */

  ember_info info;
  ember_sampler_info(s, &info, &err);
  const size_t pixels = (size_t)info.channels * info.rows * info.cols;
  float* z = malloc(sizeof(float) * (size_t)n * info.latent);
  float* images = malloc(sizeof(float) * (size_t)n * pixels);
  int32_t* labels = malloc(sizeof(int32_t) * (size_t)n);
  for (int i = 0; i < n; ++i) labels[i] = label >= 0 ? label : info.classes ? i % info.classes : 0;
  if (ember_sampler_draw(s, seed, info.classes ? labels : NULL, n, z, images, &err) != EMBER_OK)
    return fail("draw", &err);

  static const char kShades[] = " .:-=+*#%@";
  for (int i = 0; i < n; ++i) {
    for (int y = 0; y < info.rows; ++y) {
      for (int x = 0; x < info.cols; ++x) {
        float v = images[(size_t)i * pixels + (size_t)y * info.cols + x];
        v = v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f;
        putchar(kShades[(int)(v * (sizeof kShades - 2) + 0.5f)]);
      }
      putchar('\n');
    }
    putchar('\n');
  }
  uint32_t h = 2166136261u;
  const unsigned char* bytes = (const unsigned char*)images;
  for (size_t i = 0; i < (size_t)n * pixels * sizeof(float); ++i) h = (h ^ bytes[i]) * 16777619u;
  printf("hash: %08x\n", (unsigned)h);
  for (int i = 0; i < n; ++i) {
    double sum = 0.0;
    for (size_t p = 0; p < pixels; ++p) sum += images[(size_t)i * pixels + p];
    printf("sum %d: %lld\n", i, llround(sum * 1e6));
  }
  ember_sampler_close(s);
  free(buffer);
  free(z);
  free(images);
  free(labels);
  return 0;
}

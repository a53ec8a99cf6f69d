/* ember's C interface: draw samples from a trained generator (a VAE's decoder, a GAN's
 * generator) in any language or engine that can call C: Unity, Godot, Unreal, Rust, C#, Zig,
 * Lua, Python's ctypes.
 *
 *   size_t need = 0;
 *   ember_error err;
 *   ember_sampler* s = NULL;
 *   ember_sampler_open(file, file_bytes, 1, buffer, buffer_bytes, &s, &need, &err);
 *       (EMBER_OUT_OF_MEMORY: the buffer is too small; `need` says how big it must be)
 *   ember_info info;  ember_sampler_info(s, &info);        latent size, image shape, classes
 *   ember_sampler_draw(s, seed, labels, n, z, images, &err);   z ~ N(0, I) from the seed
 *   ember_sampler_decode(s, z, labels, n, images, &err);       given latents (a game's picks)
 *   ember_sampler_close(s);                                      then the buffer is free again
 *
 * Memory: the sampler lives in the caller's buffer, all of it (the handle, the weights, the
 * plan, the worker threads' state); ember takes nothing from the heap, and the file's bytes
 * may be freed once open returns. A file is what `ember export` writes (a sampler file), or
 * any VAE or GAN checkpoint `ember train` or `ember import` wrote (its sampler part is used).
 * Images are n x channels x rows x cols floats in [0, 1], C order; latents n x latent floats.
 * Conditional GANs take one class per sample (labels, 0 .. classes - 1); for other models
 * labels may be NULL. Same file, seed and thread count: the same bits on the same CPU.
 *
 * Errors: every function returns EMBER_OK (0) or an error code; when `err` is not NULL it gets
 * the code and a message that names the cause ("file: truncated ...", "n must be >= 1").
 * A sampler is used by one thread at a time. */
#ifndef EMBER_C_H
#define EMBER_C_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define EMBER_C_API __attribute__((visibility("default")))
#else
#define EMBER_C_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ember_code {
  EMBER_OK = 0,
  EMBER_INVALID_ARGUMENT = 1,
  EMBER_OUT_OF_MEMORY = 2,    /* the buffer is too small */
  EMBER_CORRUPT_DATA = 3,     /* the file is damaged or not a sampler ember knows */
  EMBER_SHAPE_MISMATCH = 4,
  EMBER_NOT_FINITE = 5,
  EMBER_IO_ERROR = 6,
  EMBER_UNSUPPORTED = 7,
  EMBER_INTERNAL = 8
} ember_code;

#define EMBER_MESSAGE_BYTES 160
typedef struct ember_error {
  int code;                           /* an ember_code */
  char message[EMBER_MESSAGE_BYTES];  /* NUL-terminated; "" when code is EMBER_OK */
} ember_error;

typedef enum ember_kind { EMBER_VAE = 1, EMBER_GAN = 2 } ember_kind;

typedef struct ember_info {
  int kind;       /* an ember_kind */
  int latent;     /* floats per latent vector (a GAN's z) */
  int channels;   /* image shape: channels x rows x cols */
  int rows;
  int cols;
  int classes;    /* a conditional GAN's classes; 0: labels are not used */
} ember_info;

typedef struct ember_sampler ember_sampler;

/* The library's version, "MAJOR.MINOR.PATCH". */
EMBER_C_API const char* ember_version(void);
/* "EMBER_OUT_OF_MEMORY", ... for a code. */
EMBER_C_API const char* ember_code_name(int code);

/* Opens the sampler in file[0 .. file_bytes) inside buffer[0 .. buffer_bytes) (any
 * alignment), for `threads` worker threads (1: none started; 0: one per core). On
 * EMBER_OUT_OF_MEMORY *need (if not NULL) holds a buffer size that will do, at any alignment.
 * Measuring takes about 64 KiB itself: from a smaller buffer, *need is the size that can
 * measure (call again). Nothing is kept of a failed open. */
EMBER_C_API int ember_sampler_open(const void* file, size_t file_bytes, int threads, void* buffer, size_t buffer_bytes,
                                   ember_sampler** out, size_t* need, ember_error* err);
EMBER_C_API int ember_sampler_info(const ember_sampler* s, ember_info* out, ember_error* err);
/* images[n x channels x rows x cols] from z[n x latent]; labels[n] for a conditional GAN. */
EMBER_C_API int ember_sampler_decode(ember_sampler* s, const float* z, const int32_t* labels, int n, float* images,
                                     ember_error* err);
/* Fills z[n x latent] with N(0, I) draws from `seed`, then decodes them into images. */
EMBER_C_API int ember_sampler_draw(ember_sampler* s, uint64_t seed, const int32_t* labels, int n, float* z,
                                   float* images, ember_error* err);
/* Stops the sampler's threads; the buffer may then be reused. NULL is ignored. */
EMBER_C_API void ember_sampler_close(ember_sampler* s);

#ifdef __cplusplus
}
#endif

#endif /* EMBER_C_H */

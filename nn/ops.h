// The op library: each op's forward and backward as plain functions over raw arrays.
//
// The graph (nn/graph.h) calls these; they know nothing about nodes or planning. Shapes
// are passed explicitly, arrays are row-major, images NCHW, weights in PyTorch's layouts
// (so checkpoints map one to one onto state_dicts). Conventions, the same for every op:
//   * forward overwrites its outputs.
//   * backward ADDS into every gradient it receives a non-null pointer for (dx, dW, db, ...):
//     a tensor used twice gets the sum of both uses, and the graph zeroes gradient buffers
//     once before the backward pass. A null gradient pointer means "not needed": skip it.
//     The ops marked GradWrites below also take a request to WRITE a gradient instead, with
//     the bits of adding to zeros (but for the sign of a zero): the graph asks for the
//     gradients a node is the only contributor to, and does not zero those buffers.
//   * scratch: an op that needs temporary memory says how much with a *_scratch_floats()
//     function; the graph plans it in the arena and passes it in, 64-byte aligned.
//   * Nothing allocates; arguments are trusted (the graph checked shapes when it was built).
//     The ops that run GEMMs (linear, conv2d, conv_t2d) return the Status of Context::gemm,
//     which checks its own arguments (and the context): they stop at the first GEMM that
//     fails and return its Status.
//
//   linear        y = x W^T + b                  x[B,I] W[O,I] b[O] -> y[B,O]
//   conv2d        y = W * x + b                  x[N,C,H,W] W[O,C,kh,kw] -> y[N,O,Ho,Wo]
//   conv_t2d      y = W *^T x + b  (transposed)  x[N,C,H,W] W[C,O,kh,kw] -> y[N,O,Ho,Wo]
//   batchnorm     y = g (x - mean) / sqrt(var + eps) + b, per channel; train or eval
//   act           y = f(x)                        f: relu, leaky_relu, sigmoid, tanh, softplus
//   concat        y = [a, b] along features (2-D) or channels (NCHW)
//   add/mul/scale y = a + b, a * b, s * a
//   reparam       z = mu + exp(0.5 logvar) * eps,  eps ~ N(0, I) from the seeded Rng
//   mbstd         y = [x, s]: one more channel holding the mean over features of the
//                 standard deviation over the batch (a GAN discriminator's diversity cue)
//   losses        BCE-with-logits, MSE / sum of squares, Gaussian NLL, KL(N(mu, s) || N(0, I)),
//                 softmax cross-entropy; reduce by sum or by mean over the batch.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/kernels.h"
#include "core/rng.h"
#include "core/status.h"
#include "platform/context.h"

namespace ember::nn {

// ---- weights -------------------------------------------------------------------------------
// A layer's weights as its forward reads them: float32 (`f`), or int8 (`q`, with one `scale`
// per output channel: w = scale[c] q; nn/quantize.h). int8 weights are widened to float a
// panel of output channels at a time, into kInt8PanelFloats more scratch than the float op
// takes (int8_panel_floats), and the float GEMM runs on the panel. The GEMMs split M and N
// and never K, so every output is summed in the same order as with the whole widened weight:
// an int8 layer gives exactly the float layer whose weights are scale * q. Except a linear
// layer fed at most kInt8DotRows rows (sampling one at a time): there each output is
// scale[o] * Kernels::dot_i8(row o, x), reading the int8 row once and no panel: the same up
// to rounding.
struct Weights {
  const float* f = nullptr;
  const int8_t* q = nullptr;
  const float* scale = nullptr;
  Weights(const float* w = nullptr) : f(w) {}  // NOLINT: float weights convert implicitly
  Weights(const int8_t* values, const float* scales) : q(values), scale(scales) {}
  bool int8() const { return q != nullptr; }
};
constexpr size_t kInt8PanelFloats = 4096;  // 16 KiB: small beside a board's RAM, L1-sized
constexpr int kInt8DotRows = 4;
// Scratch floats of one panel: whole output channels of `unit` floats each, at least one.
size_t int8_panel_floats(size_t unit);

// Which gradients a backward writes over rather than adds into: dx (the input's), params
// (the weights' and bias's). The default adds into both.
struct GradWrites {
  bool dx = false;
  bool params = false;
};
// The activation whose output a conv reads, its backward done by the conv's (graph-compile.cpp):
// each image's dx, once written, becomes dx * f'(x) in place while it is still in cache, with
// f' read from x, the activation's output. Act::identity: none. Needs GradWrites::dx.
struct InputAct {
  Act act = Act::identity;
  float slope = 0.0f;
};

// ---- linear ------------------------------------------------------------------------------
// y[B,O] = act(x[B,I] W[O,I]^T + b[O]); b may be null. act is fused into the GEMM epilogue
// (identity when the graph keeps the pre-activation for backward). int8 weights need
// linear_scratch_floats(batch, in, true) floats of scratch (none for kInt8DotRows rows or
// fewer); float ones none.
size_t linear_scratch_floats(int batch, int in, bool int8);
Status linear_forward(Context& ctx, const float* x, const Weights& w, const float* b, float* y, int batch,
                      int in, int out, Act act = Act::identity, float slope = 0.0f, float* scratch = nullptr);
// dx[B,I] += dy W;  dW[O,I] += dy^T x;  db[O] += sum over the batch of dy. GradWrites: dx and
// params.
Status linear_backward(Context& ctx, const float* x, const float* w, const float* dy, float* dx, float* dw,
                       float* db, int batch, int in, int out, GradWrites writes = {});

// ---- convolutions -------------------------------------------------------------------------
struct ConvShape {
  int n = 1;            // batch
  int c = 1, h = 1, w = 1;  // input channels, height, width
  int o = 1;            // output channels
  int kh = 1, kw = 1;   // kernel
  int stride = 1, pad = 0;
  // Output size: conv (h + 2 pad - kh) / stride + 1; transposed (h - 1) stride - 2 pad + kh.
  int out_h(bool transposed) const;
  int out_w(bool transposed) const;
};

// int8: the forward's scratch with int8 weights (a panel more).
size_t conv2d_scratch_floats(const ConvShape& s, int workers, bool int8 = false);
// x[N,C,H,W], w[O,C,kh,kw], b[O] (nullable) -> y[N,O,Ho,Wo].
Status conv2d_forward(Context& ctx, const ConvShape& s, const float* x, const Weights& w, const float* b,
                      float* y, float* scratch);
// dx += , dW += , db += (GradWrites: dx).
Status conv2d_backward(Context& ctx, const ConvShape& s, const float* x, const float* w, const float* dy,
                       float* dx, float* dw, float* db, float* scratch, GradWrites writes = {},
                       InputAct input_act = {});

size_t conv_t2d_scratch_floats(const ConvShape& s, int workers, bool int8 = false);
// x[N,C,H,W], w[C,O,kh,kw] (PyTorch's ConvTranspose2d layout), b[O] -> y[N,O,Ho,Wo].
Status conv_t2d_forward(Context& ctx, const ConvShape& s, const float* x, const Weights& w, const float* b,
                        float* y, float* scratch);
// dx += , dW += , db += (GradWrites: dx).
Status conv_t2d_backward(Context& ctx, const ConvShape& s, const float* x, const float* w,
                         const float* dy, float* dx, float* dw, float* db, float* scratch, GradWrites writes = {});

// ---- batch normalisation ----------------------------------------------------------------
// x viewed as [N, C, S] (S = H*W for images, 1 for [N, C] features). Training: normalise with
// the batch mean and biased variance, save mean and 1/sqrt(var + eps) for backward, and
// update running_mean/var with momentum (running = (1 - m) running + m batch, the unbiased
// variance, as PyTorch). Evaluation: normalise with the running statistics.
struct BatchNormShape {
  int n = 1, c = 1, s = 1;
  float eps = 1e-5f, momentum = 0.1f;
};
// Training's workspace (forward and backward): per-plane sums of the image layout (S > 1).
size_t batchnorm_scratch_floats(const BatchNormShape& sh);
void batchnorm_forward_train(Context& ctx, const BatchNormShape& sh, const float* x, const float* gamma,
                             const float* beta, float* y, float* save_mean, float* save_invstd,
                             float* running_mean, float* running_var, float* scratch);
void batchnorm_forward_eval(Context& ctx, const BatchNormShape& sh, const float* x, const float* gamma,
                            const float* beta, const float* running_mean, const float* running_var,
                            float* y);
// dx += , dgamma += , dbeta += (GradWrites: dx).
void batchnorm_backward(Context& ctx, const BatchNormShape& sh, const float* x, const float* gamma,
                        const float* save_mean, const float* save_invstd, const float* dy, float* dx,
                        float* dgamma, float* dbeta, float* scratch, GradWrites writes = {});

// ---- element-wise --------------------------------------------------------------------------
// Activations: y = f(x) through the kernel table (x == y allowed); backward adds
// dx += dy * f'(x), given x and y = f(x) (in chunks through a small stack buffer), or with
// GradWrites dx writes it. Both split large tensors over the workers in fixed chunks
// (detail::parallel_chunks).
void act_forward(Context& ctx, Act act, float slope, const float* x, float* y, size_t n);
void act_backward(Context& ctx, Act act, float slope, const float* x, const float* y, const float* dy,
                  float* dx, size_t n, GradWrites writes = {});

// y[N, Ca + Cb, S] = a[N, Ca, S] ++ b[N, Cb, S] (S = 1 for feature vectors).
void concat_forward(const float* a, const float* b, float* y, int n, int ca, int cb, int s);
void concat_backward(const float* dy, float* da, float* db, int n, int ca, int cb, int s);

// z = mu + exp(0.5 logvar) * eps; eps is drawn from rng and kept for backward.
void reparam_forward(Context& ctx, Rng& rng, const float* mu, const float* logvar, float* eps, float* z,
                     size_t n);
// dmu += dz; dlogvar += dz * eps * 0.5 exp(0.5 logvar).
void reparam_backward(Context& ctx, const float* logvar, const float* eps, const float* dz, float* dmu,
                      float* dlogvar, size_t n);

// ---- minibatch standard deviation (Karras et al. 2018, "Progressive Growing of GANs") ----
// x viewed as [N, C, S] (S = H*W for images, 1 for features). For each of the D = C*S
// features j: mean_j and the biased variance var_j over the N samples, std_j =
// sqrt(var_j + eps); s = (1/D) sum_j std_j, one scalar for the batch. y[N, C+1, S] = x with
// an extra channel filled with s at every sample and position. A discriminator seeing s
// can tell a batch of near-identical fakes (mode collapse: small s) from a diverse real one.
// mean[D] and inv_std[D] (= 1/std_j) are saved for backward.
constexpr float kMinibatchStddevEps = 1e-8f;
void minibatch_stddev_forward(const float* x, float* y, float* mean, float* inv_std, int n, int c, int s);
// With g = the sum of dy over the extra channel (every sample and position):
// dx_ij += dy_ij + (g / D) (x_ij - mean_j) inv_std_j / N   (the mean's own term cancels).
void minibatch_stddev_backward(const float* x, const float* mean, const float* inv_std, const float* dy,
                               float* dx, int n, int c, int s);

// ---- losses -----------------------------------------------------------------------------
// Every loss returns the scalar and, in backward, adds d(loss)/d(input) * dloss (dloss is
// the gradient arriving at the loss, 1 when it is the objective). `batch` rows of `per_row`
// values; Reduction::mean divides by the batch (not by every element), as the VAE's
// "per-image" losses need; Reduction::sum does not divide. ctx: the losses run their
// transcendentals (softplus, sigmoid, exp) through the vector kernels of ctx.k().
// Targets (t, and x of the Gaussian NLL) are data: they get no gradient.
// The backward passes add into dx; bce_logits and mse also take dx == x (the graph's plan
// puts a logit's gradient over the logits when nothing else reads them): each chunk of x is
// read, then that chunk is zeroed and the gradient added, the same bits as into a zeroed dx.
enum class Reduction : uint8_t { sum, mean };

// sum of max(x,0) - x t + log(1 + e^-|x|)   (x: logits, t: targets in [0,1])
float bce_logits_forward(Context& ctx, const float* x, const float* t, int batch, int per_row,
                         Reduction r);
void bce_logits_backward(Context& ctx, const float* x, const float* t, float dloss, float* dx,
                         int batch, int per_row, Reduction r);
// sum of (x - t)^2
float mse_forward(Context& ctx, const float* x, const float* t, int batch, int per_row, Reduction r);
void mse_backward(Context& ctx, const float* x, const float* t, float dloss, float* dx, int batch,
                  int per_row, Reduction r);
// sum of 0.5 (log 2 pi + logvar + (x - mu)^2 / e^logvar)
float gauss_nll_forward(Context& ctx, const float* x, const float* mu, const float* logvar, int batch,
                        int per_row, Reduction r);
void gauss_nll_backward(Context& ctx, const float* x, const float* mu, const float* logvar, float dloss,
                        float* dmu, float* dlogvar, int batch, int per_row, Reduction r);
// sum of -0.5 (1 + logvar - mu^2 - e^logvar)
float kl_std_normal_forward(Context& ctx, const float* mu, const float* logvar, int batch, int per_row,
                            Reduction r);
void kl_std_normal_backward(Context& ctx, const float* mu, const float* logvar, float dloss, float* dmu,
                            float* dlogvar, int batch, int per_row, Reduction r);
// sum over rows of -log softmax(x)[label]; labels must lie in [0, classes) (the graph
// checks): a row with another label is never indexed, it makes the loss and its dx row NaN.
float softmax_ce_forward(Context& ctx, const float* x, const int32_t* labels, int batch, int classes,
                         Reduction r);
void softmax_ce_backward(Context& ctx, const float* x, const int32_t* labels, float dloss, float* dx,
                         int batch, int classes, Reduction r);

}  // namespace ember::nn

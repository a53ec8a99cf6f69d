#include "train/ae-trainee.h"

namespace ember::train {

namespace {
constexpr uint64_t kTestSeed = 77;  // binarization of the test set and evaluation noise: the same every epoch
// The evaluator's buffers: a few rows of images and codes per eval batch (metrics/ae-eval.h).
constexpr size_t kEvalBuffers = 8;
}  // namespace

Status AeTrainee::adopt_checkpoint_config(const char* path) {
  return models::AeModel::read_config(path, &setup_.model.config);
}

Status AeTrainee::bytes_needed(int threads, Arena* scratch, size_t* bytes) {
  size_t model = 0, data = 0;
  EMBER_TRY(model_.bytes_needed(threads, scratch, &model));  // the Context included
  EMBER_TRY(data::data_bytes(setup_.data, true, true, &data));
  const size_t pixels = static_cast<size_t>(setup_.model.config.pixels());
  const size_t eval = kEvalBuffers * Arena::rounded(sizeof(float) * size_t(setup_.model.eval_batch) * pixels);
  const size_t x = Arena::rounded(sizeof(float) * size_t(setup_.model.batch) * pixels);
  data_bytes_ = data + data::order_bytes(data, pixels);
  *bytes = model + data_bytes_ + eval + x;
  return Status::ok();
}

Status AeTrainee::init(Arena* arena, Context* ctx) {
  return all_or_nothing(arena, [&] { return take(arena, ctx); }, [&] { release(); });
}

void AeTrainee::release() {
  model_.release();
  train_ = test_ = data::Dataset();
  batcher_ = data::Batcher();
  eval_ = metrics::AeEvaluator();
  x_ = nullptr;
}

// init's pieces in order; init undoes them all when one fails.
Status AeTrainee::take(Arena* arena, Context* ctx) {
  EMBER_TRY(model_.init(arena, ctx));
  EMBER_TRY(data::load_data(arena, setup_.data, true, true, &train_, &test_));
  const models::AeConfig& c = setup_.model.config;
  EMBER_TRY(data::check_image_size(train_, c.rows, c.cols, "the model"));
  EMBER_TRY(eval_.init(arena, &model_));
  EMBER_TRY(batcher_.init(arena, train_, setup_.model.batch, setup_.model.seed, setup_.pixels));
  return arena->alloc_array(batcher_.x_floats(), &x_);
}

int AeTrainee::columns(const char** names, int cap) const {
  static const char* const kColumns[] = {"epoch",   "step",        "train_loss", "test_loss",
                                         "test_recon", "test_kl", "test_sq_err", "seconds"};
  const int n = static_cast<int>(sizeof kColumns / sizeof kColumns[0]);
  for (int i = 0; i < n && i < cap; ++i) names[i] = kColumns[i];
  return n;
}


Status AeTrainee::step(double* sums) {
  batcher_.next(x_, nullptr);
  models::StepLoss l;
  EMBER_TRY(model_.train_step(x_, &l));
  sums[0] += l.loss;
  return Status::ok();
}

Status AeTrainee::end_epoch(int, const double* means, double* row) {
  metrics::AeEvalResult r;
  EMBER_TRY(eval_.evaluate(test_, setup_.test_n, setup_.pixels, kTestSeed, &r));
  row[2] = means[0], row[3] = r.loss, row[4] = r.recon, row[5] = r.kl, row[6] = r.recon_sq_err;
  return Status::ok();
}

}  // namespace ember::train

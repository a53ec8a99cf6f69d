#include "train/classifier-trainee.h"

#include "data/mnist.h"
#include "data/sprites.h"

namespace ember::train {

Status check_classifier_data(const models::ClassifierConfig& c, const data::Dataset& d, const char* what) {
  if (d.rows != c.rows || d.cols != c.cols)
    return Status::error(Code::shape_mismatch, "%s data has %dx%d images, the classifier %dx%d", what, d.rows, d.cols,
                         c.rows, c.cols);
  if (!d.labels) return Status::error(Code::invalid_argument, "%s data has no labels", what);
  if (d.classes > c.classes)
    return Status::error(Code::shape_mismatch, "%s data has %d classes, the classifier %d", what, d.classes,
                         c.classes);
  return Status::ok();
}

Status ClassifierTrainee::configure(const Setup& setup) {
  setup_ = setup;
  setup_.model.config.classes = setup.data.builtin() ? data::kSpriteShapes : data::kMnistClasses;
  return Status::ok();
}

Status ClassifierTrainee::adopt_checkpoint_config(const char* path) {
  return models::ClassifierModel::read_config(path, &setup_.model.config);
}

Status ClassifierTrainee::bytes_needed(int threads, Arena* scratch, size_t* bytes) {
  size_t model = 0, data = 0;
  EMBER_TRY(model_.bytes_needed(threads, scratch, &model));  // the Context included
  EMBER_TRY(data::data_bytes(setup_.data, true, true, &data));
  const size_t pixels = static_cast<size_t>(setup_.model.config.pixels()), batch = size_t(setup_.model.batch);
  data_bytes_ = data + data::order_bytes(data, pixels);
  *bytes = model + data_bytes_ + Arena::rounded(sizeof(float) * batch * pixels) +
           Arena::rounded(sizeof(int32_t) * batch);
  return Status::ok();
}

Status ClassifierTrainee::init(Arena* arena, Context* ctx) {
  return all_or_nothing(arena, [&] { return take(arena, ctx); }, [&] { release(); });
}

void ClassifierTrainee::release() {
  model_.release();
  train_ = test_ = data::Dataset();
  batcher_ = data::Batcher();
  score_ = models::ClassifierScore();
  x_ = nullptr, y_ = nullptr;
}

// init's pieces in order; init undoes them all when one fails.
Status ClassifierTrainee::take(Arena* arena, Context* ctx) {
  EMBER_TRY(model_.init(arena, ctx));
  EMBER_TRY(data::load_data(arena, setup_.data, true, true, &train_, &test_));
  EMBER_TRY(check_classifier_data(config(), train_, "training"));
  EMBER_TRY(check_classifier_data(config(), test_, "test"));
  EMBER_TRY(batcher_.init(arena, train_, setup_.model.batch, setup_.model.seed));
  EMBER_TRY(arena->alloc_array(batcher_.x_floats(), &x_));
  return arena->alloc_array(size_t(setup_.model.batch), &y_);
}

int ClassifierTrainee::columns(const char** names, int cap) const {
  static const char* const kColumns[] = {"epoch",     "step",     "train_loss", "train_acc",
                                         "test_loss", "test_acc", "seconds"};
  const int n = static_cast<int>(sizeof kColumns / sizeof kColumns[0]);
  for (int i = 0; i < n && i < cap; ++i) names[i] = kColumns[i];
  return n;
}

Status ClassifierTrainee::step(double* sums) {
  batcher_.next(x_, y_);
  float loss = 0;
  int correct = 0;
  EMBER_TRY(model_.train_step(x_, y_, &loss, &correct));
  sums[0] += loss, sums[1] += static_cast<double>(correct) / setup_.model.batch;
  return Status::ok();
}

Status ClassifierTrainee::end_epoch(int, const double* means, double* row) {
  EMBER_TRY(model_.evaluate(test_, setup_.test_n, &score_));
  row[2] = means[0], row[3] = means[1], row[4] = score_.loss, row[5] = score_.accuracy;
  return Status::ok();
}

}  // namespace ember::train

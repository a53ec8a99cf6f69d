#include "train/gan-trainee.h"

#include <cmath>
#include <cstring>

#include "data/mnist.h"
#include "data/sprites.h"
#include "metrics/rings-figures.h"
#include "models/gan-sampling.h"

namespace ember::train {

Status GanTrainee::configure(const Setup& setup) {
  setup_ = setup;
  models::GanConfig& c = setup_.model.config;
  const bool rings = setup.data.source && std::strcmp(setup.data.source, "rings") == 0;
  if (rings && c.cond) return Status::error(Code::invalid_argument, "a conditional GAN needs labelled images, not rings");
  if (rings && c.info_real) return Status::error(Code::invalid_argument, "info_real clusters images, not rings");
  c.data = rings ? models::GanData::points : models::GanData::images;
  c.classes = setup.data.builtin() ? data::kSpriteShapes : data::kMnistClasses;
  return Status::ok();
}

Status GanTrainee::adopt_checkpoint_config(const char* path) {
  const models::GanConfig asked = setup_.model.config;
  models::GanConfig& c = setup_.model.config;
  EMBER_TRY(models::GanModel::read_config(path, &c));
  if (setup_.keep_loss) c.loss = asked.loss;
  if (setup_.keep_g_steps) c.g_steps = asked.g_steps;
  if (setup_.keep_topk) c.topk = asked.topk;
  if (setup_.keep_ema && asked.ema > 0.0f && c.ema > 0.0f) c.ema = asked.ema;  // on/off must match the file
  return Status::ok();
}

Status GanTrainee::bytes_needed(int threads, Arena* scratch, size_t* bytes) {
  const models::GanConfig& c = setup_.model.config;
  size_t model = 0, data = 0;
  EMBER_TRY(model_.bytes_needed(threads, scratch, &model));  // the Context included
  const size_t dims = static_cast<size_t>(c.dims());
  if (points()) {
    const size_t n = static_cast<size_t>(setup_.rings_n);
    data = Arena::rounded(n * (sizeof(float) * models::kPointDims + 1)) + Arena::rounded(sizeof(int32_t) * n);
    data += 2 * Arena::rounded(sizeof(float) * kRingsFigurePoints * (models::kPointDims + size_t(c.z_dim)));
  } else {
    EMBER_TRY(data::data_bytes(setup_.data, true, true, &data));
    const size_t images = data / dims;  // an upper bound on the training images
    data += data::order_bytes(data, dims);
    if (c.info_real) data += pseudo_label_bytes(static_cast<int>(images), static_cast<int>(dims), c.info);
  }
  const size_t rows = static_cast<size_t>(model_.real_rows());
  data_bytes_ = data;
  *bytes = model + data + Arena::rounded(sizeof(float) * rows * dims) + Arena::rounded(sizeof(int32_t) * rows);
  return Status::ok();
}

Status GanTrainee::init(Arena* arena, Context* ctx) {
  return all_or_nothing(arena, [&] { return take(arena, ctx); }, [&] { release(); });
}

void GanTrainee::release() {
  model_.release();
  train_ = test_ = data::Dataset();
  rings_ = data::PointSet();
  images_ = data::Batcher();
  xy_ = data::PointBatcher();
  pseudo_ = PseudoLabels();
  cover_ = metrics::ModeCoverage();
  x_ = figure_points_ = figure_z_ = nullptr;
  labels_ = nullptr;
}

// init's pieces in order; init undoes them all when one fails.
Status GanTrainee::take(Arena* arena, Context* ctx) {
  const models::GanConfig& c = setup_.model.config;
  const uint64_t seed = setup_.model.seed;
  EMBER_TRY(model_.init(arena, ctx));
  const int rows = model_.real_rows();
  if (points()) {
    EMBER_TRY(data::make_rings(arena, setup_.rings_n, seed, &rings_));
    EMBER_TRY(xy_.init(arena, rings_, rows, seed));
    EMBER_TRY(arena->alloc_array(size_t(kRingsFigurePoints) * models::kPointDims, &figure_points_));
    EMBER_TRY(arena->alloc_array(size_t(kRingsFigurePoints) * c.z_dim, &figure_z_));
  } else {
    EMBER_TRY(data::load_data(arena, setup_.data, true, true, &train_, &test_));
    EMBER_TRY(data::check_image_size(train_, c.rows, c.cols, "the model"));
    if (c.cond && !train_.labels)
      return Status::error(Code::invalid_argument, "a conditional GAN needs labelled training images");
    if (c.info_real) {
      EMBER_TRY(cluster_images(&train_, c.info, seed, arena, &pseudo_));
      // Codes drawn as often as their clusters hold images, so G's mix matches the data's.
      void* mem = nullptr;
      EMBER_TRY(arena->alloc_tail(sizeof(double) * size_t(c.info), &mem));
      double* sizes = static_cast<double*>(mem);
      for (int k = 0; k < c.info; ++k) sizes[k] = 0.0;
      for (int i = 0; i < train_.count; ++i) sizes[train_.labels[i]] += 1.0;
      const Status s = model_.set_code_prior(sizes);
      arena->reset_tail();
      EMBER_TRY(s);
    }
    EMBER_TRY(images_.init(arena, train_, rows, seed));
  }
  EMBER_TRY(arena->alloc_array(size_t(rows) * c.dims(), &x_));
  return arena->alloc_array(size_t(rows), &labels_);
}

int GanTrainee::columns(const char** names, int cap) const {
  const char* all[12] = {"epoch", "step", "d_loss", "g_loss", "d_real", "d_fake", "seconds"};
  int n = 7;
  if (points()) all[n++] = "modes_covered", all[n++] = "high_quality";
  if (config().info > 0) all[n++] = "info_loss";
  if (config().info_real) all[n++] = "info_real_loss";
  for (int i = 0; i < n && i < cap; ++i) names[i] = all[i];
  return n;
}

Status GanTrainee::seek(int epoch, int step_in_epoch) {
  return points() ? xy_.seek(epoch, step_in_epoch) : images_.seek(epoch, step_in_epoch);
}

void GanTrainee::set_lr(float lr) {
  model_.g_optimizer().set_lr(lr);
  model_.d_optimizer().set_lr(lr);
}

Status GanTrainee::begin_epoch(int epoch) {
  model_.set_topk_share(static_cast<float>(std::pow(kTopkDecay, epoch)));  // no-op without topk
  return Status::ok();
}

Status GanTrainee::step(double* sums) {
  const models::GanConfig& c = config();
  if (points()) {
    xy_.next(x_, nullptr);
  } else {
    images_.next(x_, labels_);
    models::to_signed_pixels(x_, images_.x_floats());
  }
  models::GanStepLoss l;
  EMBER_TRY(model_.train_step(x_, c.cond || c.info_real ? labels_ : nullptr, &l));
  sums[0] += l.d_loss, sums[1] += l.g_loss, sums[2] += l.d_real, sums[3] += l.d_fake;
  sums[4] += l.info_loss, sums[5] += l.info_real_loss;
  return Status::ok();
}

Status GanTrainee::end_epoch(int, const double* means, double* row) {
  EMBER_TRY(model_.refresh_ema_stats());  // the averaged generator's statistics, for pictures and the file
  for (int i = 0; i < 4; ++i) row[2 + i] = means[i];
  int n = 7;
  if (points()) {
    EMBER_TRY(models::generate_samples(model_, kGanPictureSeed, nullptr, kRingsFigurePoints, figure_z_,
                                       figure_points_));
    EMBER_TRY(metrics::rings_figures(figure_points_, kRingsFigurePoints, &cover_));
    row[n++] = cover_.covered, row[n++] = cover_.high_quality;
  }
  if (config().info > 0) row[n++] = means[4];
  if (config().info_real) row[n++] = means[5];
  return Status::ok();
}

}  // namespace ember::train

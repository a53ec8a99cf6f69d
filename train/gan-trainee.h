// A GAN (models/gan-model.h) as the trainer sees it: the model and its real data (rings
// points, or images with labels), the InfoGAN pseudo-labels for info_real, the top-k share
// schedule, and per-epoch figures (the averaged generator's statistics refreshed; on rings,
// the modes covered by 10,000 generated points).
//
// One step is one GanModel::train_step: d_steps D updates, then g_steps G updates (with
// unroll K, K look-ahead D updates before them). Each D update takes its own real batch, so an
// epoch (one pass over the training set) has count / (batch * (d_steps + unroll)) steps.
//
// Log columns: epoch, step, d_loss, g_loss, d_real, d_fake, seconds, then modes_covered and
// high_quality (rings), info_loss (info), info_real_loss (info_real).
#pragma once
#include "data/batcher.h"
#include "data/rings.h"
#include "data/source.h"
#include "metrics/sample-metrics.h"
#include "models/gan-model.h"
#include "train/pseudo-labels.h"
#include "train/trainer.h"

namespace ember::train {

constexpr double kTopkDecay = 0.99;          // top-k: the kept share shrinks by this each epoch (Sinha et al.)
constexpr int kRingsFigurePoints = 10000;    // generated points scored after each epoch
constexpr uint64_t kGanPictureSeed = 2024;   // the same z after every epoch

class GanTrainee final : public Trainee {
 public:
  struct Setup {
    models::GanModel::Setup model;   // config.data and config.classes follow the data
    data::DataSource data;         // "rings" for the 2-D rings
    int rings_n = 25600;             // rings: training points
    // When resuming, these given options win over the checkpoint's (they change how training
    // goes on, not the networks or the steps per epoch); the rest comes from the file.
    bool keep_loss = false, keep_g_steps = false, keep_topk = false, keep_ema = false;
  };
  Status configure(const Setup& setup);

  Status adopt_checkpoint_config(const char* path) override;
  Status configure_model() override { return model_.configure(setup_.model); }
  Status bytes_needed(int threads, Arena* scratch, size_t* bytes) override;
  size_t data_bytes() const override { return data_bytes_; }
  Status init(Arena* arena, Context* ctx) override;
  void release() override;
  int columns(const char** names, int cap) const override;
  int step_values() const override { return 6; }
  int steps_per_epoch() const override { return points() ? xy_.steps_per_epoch() : images_.steps_per_epoch(); }
  Status seek(int epoch, int step_in_epoch) override;
  int position() const override { return points() ? xy_.position() : images_.position(); }
  void set_lr(float lr) override;
  float lr() override { return model_.g_optimizer().config().lr; }
  Status begin_epoch(int epoch) override;
  Status step(double* sums) override;
  Status end_epoch(int epoch, const double* means, double* row) override;
  int batch_size() const override { return setup_.model.batch; }
  int train_size() const override { return data_count(); }
  Status save(const char* path, uint64_t step, const char* run) const override { return model_.save(path, step, run); }
  Status load(const char* path, uint64_t* step) override { return model_.load(path, step); }

  bool points() const { return setup_.model.config.data == models::GanData::points; }
  models::GanModel& model() { return model_; }
  const models::GanConfig& config() const { return setup_.model.config; }
  const data::Dataset& train_data() const { return train_; }
  int data_count() const { return points() ? rings_.count : train_.count; }
  // info_real: how the clustering went (after init).
  const PseudoLabels& pseudo_labels() const { return pseudo_; }
  // Rings: the points scored after the last epoch, [kRingsFigurePoints, 2], and their figures.
  const float* figure_points() const { return figure_points_; }
  const metrics::ModeCoverage& coverage() const { return cover_; }

 private:
  size_t data_bytes_ = 0;  // of bytes_needed's figure
  Status take(Arena* arena, Context* ctx);

  Setup setup_;
  models::GanModel model_;
  data::Dataset train_, test_;
  data::PointSet rings_;
  data::Batcher images_;
  data::PointBatcher xy_;
  PseudoLabels pseudo_;
  metrics::ModeCoverage cover_;
  float *x_ = nullptr, *figure_points_ = nullptr, *figure_z_ = nullptr;
  int32_t* labels_ = nullptr;
};

}  // namespace ember::train

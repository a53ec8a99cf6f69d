// An autoencoder or VAE (models/ae-model.h) as the trainer sees it: the model, its training
// and test images, the shuffled batches and the per-epoch test-set evaluation.
//
// Log columns: epoch, step, train_loss (mean over the epoch's steps), test_loss, test_recon,
// test_kl, test_sq_err, seconds.
#pragma once
#include "data/batcher.h"
#include "data/source.h"
#include "metrics/ae-eval.h"
#include "models/ae-model.h"
#include "train/trainer.h"

namespace ember::train {

class AeTrainee final : public Trainee {
 public:
  struct Setup {
    models::AeModel::Setup model;
    data::DataSource data;
    data::Pixels pixels = data::Pixels::grey;  // binarized: a fresh 0/1 sample of every pixel each step
    int test_n = 0;                                // test images evaluated after each epoch (0: all)
  };
  Status configure(const Setup& setup) {
    setup_ = setup;
    return Status::ok();
  }

  Status adopt_checkpoint_config(const char* path) override;
  Status configure_model() override { return model_.configure(setup_.model); }
  Status bytes_needed(int threads, Arena* scratch, size_t* bytes) override;
  size_t data_bytes() const override { return data_bytes_; }
  Status init(Arena* arena, Context* ctx) override;
  void release() override;
  int columns(const char** names, int cap) const override;
  int step_values() const override { return 1; }
  int steps_per_epoch() const override { return batcher_.steps_per_epoch(); }
  Status seek(int epoch, int step_in_epoch) override { return batcher_.seek(epoch, step_in_epoch); }
  int position() const override { return batcher_.position(); }
  void set_lr(float lr) override { model_.optimizer().set_lr(lr); }
  float lr() override { return model_.optimizer().config().lr; }
  Status step(double* sums) override;
  Status end_epoch(int epoch, const double* means, double* row) override;
  int batch_size() const override { return setup_.model.batch; }
  int train_size() const override { return train_.count; }
  Status save(const char* path, uint64_t step, const char* run) const override { return model_.save(path, step, run); }
  Status load(const char* path, uint64_t* step) override { return model_.load(path, step); }

  models::AeModel& model() { return model_; }
  const Setup& setup() const { return setup_; }
  const data::Dataset& train_data() const { return train_; }
  const data::Dataset& test_data() const { return test_; }

 private:
  size_t data_bytes_ = 0;  // of bytes_needed's figure
  Status take(Arena* arena, Context* ctx);

  Setup setup_;
  models::AeModel model_;
  data::Dataset train_, test_;
  data::Batcher batcher_;
  metrics::AeEvaluator eval_;
  float* x_ = nullptr;
};

}  // namespace ember::train

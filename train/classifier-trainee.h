// The classifier that scores generators (models/classifier-model.h) as the trainer sees it: the
// model, labelled training and test images, and the test-set accuracy after each epoch.
//
// Log columns: epoch, step, train_loss, train_acc (means over the epoch's steps, before each
// update), test_loss, test_acc, seconds.
#pragma once
#include "data/batcher.h"
#include "data/source.h"
#include "models/classifier-model.h"
#include "train/trainer.h"

namespace ember::train {

class ClassifierTrainee final : public Trainee {
 public:
  struct Setup {
    models::ClassifierModel::Setup model;  // config.classes follows the data
    data::DataSource data;
    int test_n = 0;  // test images evaluated after each epoch (0: all)
  };
  Status configure(const Setup& setup);

  Status adopt_checkpoint_config(const char* path) override;
  Status configure_model() override { return model_.configure(setup_.model); }
  Status bytes_needed(int threads, Arena* scratch, size_t* bytes) override;
  size_t data_bytes() const override { return data_bytes_; }
  Status init(Arena* arena, Context* ctx) override;
  void release() override;
  int columns(const char** names, int cap) const override;
  int step_values() const override { return 2; }
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

  models::ClassifierModel& model() { return model_; }
  const models::ClassifierConfig& config() const { return setup_.model.config; }
  const data::Dataset& train_data() const { return train_; }
  const data::Dataset& test_data() const { return test_; }
  const models::ClassifierScore& score() const { return score_; }  // after the last epoch

 private:
  size_t data_bytes_ = 0;  // of bytes_needed's figure
  Status take(Arena* arena, Context* ctx);

  Setup setup_;
  models::ClassifierModel model_;
  data::Dataset train_, test_;
  data::Batcher batcher_;
  models::ClassifierScore score_;
  float* x_ = nullptr;
  int32_t* y_ = nullptr;
};

// Whether d fits a classifier: its image size, labels, and no more classes than it has.
// `what` names the split in the message ("training", "test").
Status check_classifier_data(const models::ClassifierConfig& c, const data::Dataset& d, const char* what);

}  // namespace ember::train

// One trainer for every model: the epoch loop, the learning-rate schedule, resuming, the
// per-epoch evaluation, the atomic checkpoint and log, and callbacks for progress and pictures.
//
//   train::AeTrainee vae;                       // or GanTrainee, ClassifierTrainee
//   vae.configure(setup);                       // the model and its data, no memory yet
//   train::Trainer t;
//   t.configure(&vae, options);                 // reads a checkpoint's config when resuming
//   size_t bytes; t.bytes_needed(threads, &scratch, &bytes);  // the Context's share included
//   ... an arena of that size, a Context initialised in it ...
//   t.init(&arena, &ctx);                       // model, data, history; resumes if asked
//   t.run(&observer);                           // epochs until options.epochs (or the time limit)
//
// A run is a sequence of steps; an epoch is trainee->steps_per_epoch() of them. After every
// epoch the trainer asks the trainee for its evaluation row, writes the checkpoint (which
// records the step) and the CSV log atomically, then calls the observer. Resuming loads the
// checkpoint, keeps the log's rows up to its epoch, moves the data to the step it records and
// goes on from there, so an interrupted run and an uninterrupted one give the same bits.
//
// What keeps a user's work safe:
// - An existing checkpoint is continued only with `resume` and replaced only with `replace`;
//   a file that is not a checkpoint (or not a regular file) is never replaced.
// - The checkpoint records the run's batch size, training-set size and steps per epoch; a
//   resume that differs in any is refused naming it (its steps would mean other samples).
// - A resume whose checkpoint already has every epoch trains nothing and writes nothing
//   (nothing_to_train() says so).
// - A step whose loss (or clipped gradient norm) is not finite changes nothing and is
//   skipped and counted; skip_limit of them in a row, or a test figure that is not finite,
//   stop the run with Code::not_finite before anything is saved: the last good checkpoint
//   stays. Saving refuses non-finite weights as well (nn/checkpoint.h).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/arena.h"
#include "core/status.h"
#include "io/file.h"
#include "platform/context.h"
#include "train/history.h"
#include "train/schedule.h"

namespace ember::train {

// What a model offers the trainer. Every function has a default that refuses (no pure
// virtuals: bare-metal builds have no __cxa_pure_virtual).
class Trainee {
 public:
  // When resuming from `path`: adopt the architecture the checkpoint records (the options
  // the user gave that only change how training goes on may still win). Before bytes_needed.
  virtual Status adopt_checkpoint_config(const char* path);
  // Hands the final setup to the model (after any checkpoint's config was adopted); the
  // trainer calls it in configure(), before bytes_needed and init (so again when it is
  // configured again after a failed init).
  virtual Status configure_model();
  // Arena bytes init() takes (the Context's share for `threads`, model, data, batches,
  // evaluation): a dry run whose graph tables are built in `scratch` and given back.
  virtual Status bytes_needed(int threads, Arena* scratch, size_t* bytes);
  // Of bytes_needed's figure, what the datasets (and their shuffle order) take: for a memory
  // plan a person reads. After bytes_needed; 0 when not told apart.
  virtual size_t data_bytes() const;
  // Takes memory, loads the data, initialises the weights from the seed. On failure the
  // arena and the trainee are as they were (as after configure_model()): it may be tried again.
  virtual Status init(Arena* arena, Context* ctx);
  // Undoes init(): back to as after configure_model(); the memory init took stays with the
  // arena, which its owner rewinds. The trainer calls it when its own set-up fails after the
  // trainee's init (the log's room, a checkpoint that does not load).
  virtual void release();
  // The log's columns, which include "epoch", "step" and "seconds" (the trainer fills those);
  // names are static strings.
  virtual int columns(const char** names, int cap) const;
  // How many running sums a step adds to (the loss, the accuracy, ...).
  virtual int step_values() const;
  virtual int steps_per_epoch() const;
  // Moves the data to step `step_in_epoch` of epoch `epoch` (resume).
  virtual Status seek(int epoch, int step_in_epoch);
  virtual int position() const;  // the step within the epoch the data is at
  virtual void set_lr(float lr);
  virtual float lr();
  // Before epoch `epoch` (from 0) starts: schedules of the model's own (top-k, ...).
  virtual Status begin_epoch(int epoch);
  // One step on the next batch; adds its values into sums[step_values()].
  virtual Status step(double* sums);
  // After the epoch: means[step_values()] of the step values; fills the log row (all columns
  // but epoch, step and seconds) with them and the evaluation.
  virtual Status end_epoch(int epoch, const double* means, double* row);
  // The training run's batch size and training-set size (after init), kept in the
  // checkpoint so that a resume can check them; 0: not known.
  virtual int batch_size() const;
  virtual int train_size() const;
  // run: the trainer's text for the checkpoint (models/model-common.h), may be null.
  virtual Status save(const char* path, uint64_t step, const char* run) const;
  virtual Status load(const char* path, uint64_t* step);

 protected:
  ~Trainee() = default;  // not virtual: no deleting destructor, so no operator delete on a board
};

struct TrainOptions {
  int epochs = 10;
  Schedule schedule;          // its epochs are set from `epochs`
  const char* out = nullptr;  // the checkpoint; the log goes next to it as <stem>.log.csv
  bool resume = false;        // continue from `out` when it exists
  bool replace = false;       // start over on an existing checkpoint at `out` (else refused)
  int skip_limit = 10;        // steps in a row with a non-finite loss that stop the run
  double time_limit = 0.0;    // seconds of training (0: none): stop after the epoch that would end past it
  double progress_every = 0.25;  // seconds between progress callbacks
  size_t observer_bytes = 0;  // arena bytes the observer's callbacks take (pictures), counted in bytes_needed
};

struct Progress {
  int epoch = 0, epochs = 0;          // epoch from 1
  int step_in_epoch = 0, steps_per_epoch = 0;
  const double* means = nullptr;      // running means of the step values
  double steps_per_second = 0.0, seconds_left = 0.0;
};

struct EpochReport {
  int epoch = 0, epochs = 0;          // epoch from 1
  uint64_t step = 0;
  const double* row = nullptr;        // the row just added to the history
  double seconds = 0.0;
  float lr = 0.0f;
  bool last = false;                  // no epoch follows in this run
  int skipped = 0;                    // steps skipped in this epoch: the loss was not finite
};

// Progress lines, printing and pictures: the program's part. Plain function pointers (any may
// be null) rather than virtual functions, so a program built with RTTI can fill them in: the
// library is built without it and cannot give a class of the program a base typeinfo.
struct TrainObserver {
  void* user = nullptr;  // handed back to every callback
  void (*on_resume)(void* user, uint64_t step, int epoch) = nullptr;
  void (*on_progress)(void* user, const Progress& p) = nullptr;
  // After the checkpoint and the log are written. A failure stops the run.
  Status (*on_epoch)(void* user, const EpochReport& r, const History& history, Arena* arena) = nullptr;
  void (*on_time_limit)(void* user, double spent, double limit) = nullptr;
};

// Trainer::bytes_needed's figure by category.
struct SetupBytes {
  size_t trainee = 0;   // model, optimizer, batches, evaluation and the Context (data apart)
  size_t data = 0;      // datasets and their shuffle order
  size_t history = 0;   // the log's rows
  size_t observer = 0;  // TrainOptions::observer_bytes, rounded
  size_t total() const { return trainee + data + history + observer; }
};

class Trainer {
 public:
  static constexpr int kMaxColumns = History::kMaxColumns;

  Status configure(Trainee* trainee, const TrainOptions& options);
  // Arena bytes the Context and init() take: the trainee's (Context included), the history's
  // and the observer's. scratch: lent for the dry run, given back.
  Status bytes_needed(int threads, Arena* scratch, size_t* bytes) const;
  Status bytes_needed(int threads, Arena* scratch, SetupBytes* bytes) const;
  // The trainee's set-up, the history, and resuming when asked. On failure (an arena too
  // small, a checkpoint that does not load) the arena, the trainer and the trainee are as
  // they were: init() may be called again, e.g. with a bigger arena.
  Status init(Arena* arena, Context* ctx);
  // Trains until options.epochs (or the time limit).
  Status run(const TrainObserver& observer = TrainObserver());

  bool resumed() const { return resumed_; }
  // A resumed checkpoint that already has every epoch asked for: run() trains and writes nothing.
  bool nothing_to_train() const { return resumed_ && step_ >= total_steps(); }
  int epochs_done() const;  // whole epochs in the checkpoint (after init)
  uint64_t step() const { return step_; }
  const History& history() const { return history_; }
  const char* log_path() const { return log_; }

 private:
  Trainee* trainee_ = nullptr;
  TrainOptions o_;
  Status take(Arena* arena, Context* ctx);

  Arena* arena_ = nullptr;
  History history_;
  const char* names_[kMaxColumns] = {};
  int columns_ = 0;
  bool resuming_ = false, resumed_ = false;
  uint64_t step_ = 0;
  char log_[kMaxPath + 16] = {0};
  char file_run_[96] = {0};  // the resumed checkpoint's run text ("batch=64 train=60000 steps=937")

  uint64_t total_steps() const;
  // A resume agrees with the checkpoint's run text: its batch size (before init), and its
  // training set and steps per epoch too once the data is loaded.
  Status check_run(bool data_loaded) const;
  Status run_text(char* buf, size_t cap) const;
};

// "runs/vae.ember" -> "runs/vae" into buf (pictures and logs go next to the checkpoint).
Status path_stem(const char* path, char* buf, size_t cap);

}  // namespace ember::train

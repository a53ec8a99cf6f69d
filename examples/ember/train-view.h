// What `ember train` shows while the trainer (train/trainer.h) runs: the progress line on a
// terminal, "resuming ..." and the time-limit notice; each model's view adds its epoch line and
// pictures. open_trainer() sizes the session from the trainer's dry run and starts it.
#pragma once
#include <cstdarg>
#include <string>

#include "examples/ember/cli.h"
#include "examples/ember/session.h"
#include "train/trainer.h"

namespace ember::tool {

// Arena bytes the pictures of a training run take at most (canvases, taken and given back).
constexpr size_t kPictureBytes = 17u << 20;

class TrainView {
 public:
  TrainView(const std::string& out, bool pictures);  // out: the checkpoint path
  virtual ~TrainView() = default;

  virtual void on_resume(uint64_t step, int epoch);
  virtual void on_time_limit(double spent, double limit);
  virtual void on_progress(const train::Progress& p) = 0;
  virtual Status on_epoch(const train::EpochReport& r, const train::History& history, Arena* arena) = 0;
  // The trainer's callbacks, calling this object's functions.
  train::TrainObserver observer();

 protected:
  // "\repoch E/N  step S/M  <values>  R steps/s  T left" on stderr, when it is a terminal.
  void progress_line(const train::Progress& p, const char* values_format, ...);
  void clear_progress();  // wipes the progress line before a line is printed

  std::string out_, stem_;  // "runs/vae.ember", "runs/vae"
  bool pictures_;
  bool tty_;
};

// The options every training command has: --epochs (into o), --seed, --threads, --out (a
// .ember file), --resume and --force (into o).
struct RunFlags {
  int seed = 1, threads = 0;
  std::string out;
};
RunFlags read_run_flags(Cli& cli, int default_epochs, train::TrainOptions* o);

// After open_trainer: a resumed checkpoint that already holds every epoch asked for is
// reported (nothing is trained or written); true: the command is done.
bool nothing_to_train(const train::Trainer& trainer, const train::TrainOptions& o);

// Configures the trainer, sizes the session from its dry run for `threads` workers (0: one per
// core), opens the session and initialises the trainer in it (resuming when asked). The
// checkpoint's folders were made by the command line (Cli::output, read_run_flags).
Status open_trainer(train::Trainer* trainer, train::Trainee* trainee, const train::TrainOptions& options, int threads,
                    Session* session);

}  // namespace ember::tool

// What `ember train` shows while the trainer (train/trainer.h) runs: the progress line on a
// terminal, "resuming ..." and the time-limit notice; each model's view adds its epoch line and
// pictures. open_trainer() sizes the session from the trainer's dry run and starts it.
#pragma once
#include <cstdarg>
#include <functional>
#include <string>

#include "examples/ember/cli.h"
#include "examples/ember/session.h"
#include "train/trainer.h"

namespace ember::tool {

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
// .ember file), --resume and --force (into o), --memory.
struct RunFlags {
  int seed = 1, threads = 0;
  std::string out;
  size_t memory = 0;  // 0: what the run takes
};
RunFlags read_run_flags(Cli& cli, int default_epochs, train::TrainOptions* o);

// After open_trainer: a resumed checkpoint that already holds every epoch asked for is
// reported (nothing is trained or written); true: the command is done.
bool nothing_to_train(const train::Trainer& trainer, const train::TrainOptions& o);

// The memory plan of a configured trainer run by `threads` workers (0: one per core): its
// dry run by category, plus `pictures`, what the view's pictures take at most. `ember info`
// prints it; open_trainer allocates it.
Status plan_training(const train::Trainer& trainer, int threads, size_t pictures, MemoryPlan* plan);

// Configures the trainer, plans its memory (picture_bytes() is asked after configure, when a
// resumed checkpoint's architecture is known), opens the session (at run.memory when given,
// refused before any work when smaller than the plan) and initialises the trainer in it
// (resuming when asked). The checkpoint's folders were made by the command line.
Status open_trainer(train::Trainer* trainer, train::Trainee* trainee, const train::TrainOptions& options,
                    const RunFlags& run, const std::function<size_t()>& picture_bytes, Session* session);

// "memory: N bytes (M MiB), threads: T" of an open session, for a command's header line.
std::string memory_text(const Session& session);

}  // namespace ember::tool

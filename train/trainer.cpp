#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>

#include "models/model-common.h"
#include "nn/checkpoint.h"

namespace ember::train {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

Status refuse(const char* what) {
  return Status::error(Code::unsupported, "trainee: %s is not implemented by this model", what);
}

// The integer after " key=" in a run text ("batch=64 train=60000 steps=937"); -1 if absent.
long long run_value(const char* run, const char* key) {
  const size_t n = std::strlen(key);
  for (const char* p = run; (p = std::strstr(p, key)) != nullptr; p += n)
    if ((p == run || p[-1] == ' ') && p[n] == '=') return std::atoll(p + n + 1);
  return -1;
}

}  // namespace

// ---- the defaults: a trainee that implements nothing refuses ----------------------------------
Status Trainee::adopt_checkpoint_config(const char*) { return Status::ok(); }
Status Trainee::configure_model() { return Status::ok(); }
Status Trainee::bytes_needed(int, Arena*, size_t*) { return refuse("bytes_needed"); }
size_t Trainee::data_bytes() const { return 0; }
Status Trainee::init(Arena*, Context*) { return refuse("init"); }
void Trainee::release() {}
int Trainee::columns(const char**, int) const { return 0; }
int Trainee::step_values() const { return 0; }
int Trainee::steps_per_epoch() const { return 0; }
Status Trainee::seek(int, int) { return refuse("seek"); }
int Trainee::position() const { return 0; }
void Trainee::set_lr(float) {}
float Trainee::lr() { return 0.0f; }
Status Trainee::begin_epoch(int) { return Status::ok(); }
Status Trainee::step(double*) { return refuse("step"); }
Status Trainee::end_epoch(int, const double*, double*) { return Status::ok(); }
int Trainee::batch_size() const { return 0; }
int Trainee::train_size() const { return 0; }
Status Trainee::save(const char*, uint64_t, const char*) const { return refuse("save"); }
Status Trainee::load(const char*, uint64_t*) { return refuse("load"); }


Status path_stem(const char* path, char* buf, size_t cap) {
  const size_t n = std::strlen(path);
  const char* slash = std::strrchr(path, '/');
  const char* dot = std::strrchr(path, '.');
  const size_t keep = dot && (!slash || dot > slash) ? static_cast<size_t>(dot - path) : n;
  if (keep + 1 > cap) return Status::error(Code::invalid_argument, "path of %zu characters: at most %zu", n, cap - 1);
  std::memcpy(buf, path, keep);
  buf[keep] = 0;
  return Status::ok();
}

// ---- set-up -------------------------------------------------------------------------------------
Status Trainer::configure(Trainee* trainee, const TrainOptions& options) {
  if (!trainee) return Status::error(Code::invalid_argument, "trainer: no model");
  if (!options.out || !*options.out) return Status::error(Code::invalid_argument, "trainer: no checkpoint path");
  if (options.epochs < 1) return Status::error(Code::invalid_argument, "trainer: %d epochs", options.epochs);
  trainee_ = trainee, o_ = options;
  o_.schedule.epochs = o_.epochs;
  o_.schedule.time_limit = o_.time_limit;
  if (o_.schedule.decay_from < 0 || (o_.schedule.decay_from > 0 && o_.schedule.decay_from >= o_.epochs))
    return Status::error(Code::invalid_argument, "trainer: decay from epoch %d of %d", o_.schedule.decay_from, o_.epochs);
  char stem[kMaxPath];
  EMBER_TRY(path_stem(o_.out, stem, sizeof stem));
  std::snprintf(log_, sizeof log_, "%s.log.csv", stem);
  columns_ = trainee_->columns(names_, kMaxColumns);
  if (columns_ < 1 || columns_ > kMaxColumns || trainee_->step_values() > kMaxColumns)
    return Status::error(Code::invalid_argument, "trainer: %d log columns (1..%d)", columns_, kMaxColumns);
  // Nothing the user has is replaced unasked: not a checkpoint without --force, and never a
  // file that is not a checkpoint (a typo in --out must not eat a notebook).
  const FileKind kind = file_kind(o_.out);
  if (kind == FileKind::directory)
    return Status::error(Code::invalid_argument, "%s is a folder; name the checkpoint file in it", o_.out);
  if (kind == FileKind::other || (kind == FileKind::regular && !nn::is_checkpoint_file(o_.out)))
    return Status::error(Code::invalid_argument, "%s exists and is not an ember checkpoint; it is never replaced "
                         "by one (choose another --out)", o_.out);
  if (kind == FileKind::regular && !o_.resume && !o_.replace)
    return Status::error(Code::invalid_argument, "%s exists: --resume continues it, --force starts over and "
                         "replaces it", o_.out);
  resuming_ = o_.resume && kind == FileKind::regular;
  if (resuming_) {
    char run[nn::kMaxCheckpointMeta + 1];
    EMBER_TRY(models::read_checkpoint_run(o_.out, run, sizeof run));
    if (std::strlen(run) >= sizeof file_run_)
      return Status::error(Code::corrupt_data, "resume: %s: run text of %zu bytes", o_.out, std::strlen(run));
    std::strcpy(file_run_, run);  // init checks the rest once the data is loaded
    EMBER_TRY(check_run(false));  // the batch size is known now: refused before any memory
    EMBER_TRY(trainee_->adopt_checkpoint_config(o_.out));
  }
  return trainee_->configure_model();
}

uint64_t Trainer::total_steps() const {
  return static_cast<uint64_t>(o_.epochs) * static_cast<uint64_t>(trainee_->steps_per_epoch());
}

int Trainer::epochs_done() const {
  const int spe = trainee_ ? trainee_->steps_per_epoch() : 0;
  return spe > 0 ? static_cast<int>(step_ / static_cast<uint64_t>(spe)) : 0;
}

Status Trainer::run_text(char* buf, size_t cap) const {
  const int n = std::snprintf(buf, cap, "batch=%d train=%d steps=%d", trainee_->batch_size(), trainee_->train_size(),
                              trainee_->steps_per_epoch());
  if (n < 0 || static_cast<size_t>(n) >= cap) return Status::error(Code::invalid_argument, "trainer: run text too long");
  return Status::ok();
}

// A step counts batches: it means the same samples only with the same batch size, training set
// and steps per epoch (a GAN's D steps and look-ahead are part of a step).
Status Trainer::check_run(bool data_loaded) const {
  struct Key { const char* key; int mine; const char* what; };
  const Key keys[] = {{"batch", trainee_->batch_size(), "batch"},
                      {"train", data_loaded ? trainee_->train_size() : 0, "a training set of"},
                      {"steps", data_loaded ? trainee_->steps_per_epoch() : 0, "steps per epoch:"}};
  for (const Key& k : keys) {
    if (!data_loaded && k.mine == 0) continue;
    const long long theirs = run_value(file_run_, k.key);
    if (theirs >= 0 && theirs != k.mine)
      return Status::error(Code::invalid_argument, "resume: %s was trained with %s %lld, this run has %d (resume "
                           "with the same data and options, or --force to start over)", o_.out, k.what, theirs, k.mine);
  }
  return Status::ok();
}

Status Trainer::bytes_needed(int threads, Arena* scratch, SetupBytes* bytes) const {
  if (!trainee_) return Status::error(Code::invalid_argument, "trainer: not configured");
  size_t all = 0;
  EMBER_TRY(trainee_->bytes_needed(threads, scratch, &all));
  bytes->data = trainee_->data_bytes() <= all ? trainee_->data_bytes() : 0;
  bytes->trainee = all - bytes->data;
  // Room for every epoch of this run; a resumed log may hold more rows than that only when it
  // ran past --epochs, and then no epoch is trained (the log is read into the room it has).
  bytes->history = History::bytes_needed(columns_, o_.epochs + 1);
  bytes->observer = Arena::rounded(o_.observer_bytes);
  return Status::ok();
}

Status Trainer::bytes_needed(int threads, Arena* scratch, size_t* bytes) const {
  SetupBytes b;
  EMBER_TRY(bytes_needed(threads, scratch, &b));
  *bytes = b.total();
  return Status::ok();
}

Status Trainer::init(Arena* arena, Context* ctx) {
  if (!trainee_) return Status::error(Code::invalid_argument, "trainer: not configured");
  {  // a checkpoint that cannot be written fails now, not after the first epoch's work
    AtomicWriter probe;
    EMBER_TRY(probe.open(o_.out));
  }  // the probe's temp file is removed; the checkpoint itself is not touched
  return all_or_nothing(arena, [&] { return take(arena, ctx); }, [&] {
    trainee_->release();
    history_ = History();
    arena_ = nullptr, step_ = 0, resumed_ = false;
  });
}

// init's pieces in order; init undoes them all when one fails.
Status Trainer::take(Arena* arena, Context* ctx) {
  EMBER_TRY(trainee_->init(arena, ctx));
  EMBER_TRY(history_.init(arena, names_, columns_, o_.epochs + 1));
  arena_ = arena, step_ = 0, resumed_ = false;
  if (!resuming_) return Status::ok();
  const int spe = trainee_->steps_per_epoch();
  if (spe < 1) return Status::error(Code::invalid_argument, "trainer: %d steps per epoch", spe);
  EMBER_TRY(check_run(true));
  EMBER_TRY(trainee_->load(o_.out, &step_));
  const uint64_t epoch = step_ / static_cast<uint64_t>(spe);
  EMBER_TRY(history_.read_csv(log_, epoch > uint64_t(o_.epochs) ? o_.epochs : static_cast<int>(epoch)));
  if (epoch < uint64_t(o_.epochs)) EMBER_TRY(trainee_->seek(static_cast<int>(epoch), static_cast<int>(step_ % spe)));
  resumed_ = true;
  return Status::ok();
}

// ---- the epoch loop -----------------------------------------------------------------------------
Status Trainer::run(const TrainObserver& obs) {
  const int spe = trainee_->steps_per_epoch();
  if (spe < 1) return Status::error(Code::invalid_argument, "trainer: %d steps per epoch", spe);
  if (resumed_ && obs.on_resume) obs.on_resume(obs.user, step_, static_cast<int>(step_ / spe) + 1);
  const int values = trainee_->step_values();
  const int i_epoch = history_.index_of("epoch"), i_step = history_.index_of("step"),
            i_seconds = history_.index_of("seconds");
  const auto run_start = Clock::now();
  const uint64_t first_step = step_, total_steps = static_cast<uint64_t>(o_.epochs) * spe;
  double spent = history_.sum("seconds");  // training seconds, earlier runs of a resumed model included
  int in_a_row = 0;                         // steps skipped in a row (loss not finite)
  char kept_text[kMaxPath + 32];
  // What a diverged run leaves: the checkpoint of the last whole epoch, if there is one.
  auto kept = [this](int epochs, char* buf, size_t cap) -> const char* {
    if (epochs > 0) std::snprintf(buf, cap, "%s keeps epoch %d", o_.out, epochs);
    else std::snprintf(buf, cap, "nothing was saved");
    return buf;
  };
  while (step_ < total_steps) {
    const int epoch = static_cast<int>(step_ / spe);
    if (o_.time_limit > 0 && spent + history_.last("seconds") > o_.time_limit) {
      if (obs.on_time_limit) obs.on_time_limit(obs.user, spent, o_.time_limit);
      break;
    }
    trainee_->set_lr(o_.schedule.at(epoch, spent));
    EMBER_TRY(trainee_->begin_epoch(epoch));
    const auto epoch_start = Clock::now();
    auto shown = epoch_start;
    double sums[kMaxColumns] = {0}, means[kMaxColumns] = {0};
    int n = 0;
    int skipped = 0;
    for (int i = trainee_->position(); i < spe; ++i, ++step_) {
      const Status st = trainee_->step(sums);
      if (st.code() == Code::not_finite) {  // the step changed nothing; its batch is used up
        ++skipped;
        if (++in_a_row < o_.skip_limit) continue;
        return Status::error(Code::not_finite, "the run diverged: %d steps in a row to step %llu: loss or gradient "
                             "not finite (lower the learning rate); %s", in_a_row,
                             static_cast<unsigned long long>(step_ + 1), kept(epoch, kept_text, sizeof kept_text));
      }
      EMBER_TRY(st);
      in_a_row = 0;
      ++n;
      if (obs.on_progress && seconds_since(shown) > o_.progress_every) {
        shown = Clock::now();
        for (int v = 0; v < values; ++v) means[v] = sums[v] / n;
        Progress p;
        p.epoch = epoch + 1, p.epochs = o_.epochs, p.step_in_epoch = i + 1, p.steps_per_epoch = spe;
        p.means = means;
        p.steps_per_second = (step_ + 1 - first_step) / seconds_since(run_start);
        p.seconds_left = (total_steps - step_ - 1) / p.steps_per_second;
        obs.on_progress(obs.user, p);
      }
    }
    for (int v = 0; v < values; ++v) means[v] = sums[v] / (n ? n : 1);
    double row[kMaxColumns] = {0};
    EMBER_TRY(trainee_->end_epoch(epoch, means, row));
    for (int c = 0; c < columns_; ++c)  // a diverged model is not saved over the last good one
      if (!std::isfinite(row[c]))
        return Status::error(Code::not_finite, "the run diverged: %s is not finite after epoch %d (lower the "
                             "learning rate); %s", names_[c], epoch + 1, kept(epoch, kept_text, sizeof kept_text));
    const double seconds = seconds_since(epoch_start);
    spent += seconds;
    if (i_epoch >= 0) row[i_epoch] = epoch + 1;
    if (i_step >= 0) row[i_step] = static_cast<double>(step_);
    if (i_seconds >= 0) row[i_seconds] = seconds;
    EMBER_TRY(history_.add(row));
    char run[96];
    EMBER_TRY(run_text(run, sizeof run));
    EMBER_TRY(trainee_->save(o_.out, step_, run));
    EMBER_TRY(history_.write_csv(log_));
    EpochReport r;
    r.epoch = epoch + 1, r.epochs = o_.epochs, r.step = step_, r.row = history_.row(history_.rows() - 1);
    r.seconds = seconds, r.lr = trainee_->lr(), r.skipped = skipped;
    r.last = step_ == total_steps || (o_.time_limit > 0 && spent + seconds > o_.time_limit);
    if (obs.on_epoch) EMBER_TRY(obs.on_epoch(obs.user, r, history_, arena_));
  }
  return Status::ok();
}

}  // namespace ember::train

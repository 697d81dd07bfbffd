#include "ingest/group_fence.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <thread>

namespace clickflow {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

void GroupFence::Arm(std::map<kafka::PartitionKey, int64_t> first_offsets) {
  std::lock_guard lock(mutex_);
  first_offsets_ = std::move(first_offsets);
}

void GroupFence::Reset() {
  std::lock_guard lock(mutex_);
  lost_ = false;
  confirmed_at_ = Clock::now();  // the assignment itself came from the coordinator just now
}

void GroupFence::Lose() {
  std::lock_guard lock(mutex_);
  lost_ = true;
}

void GroupFence::Check() {
  std::lock_guard lock(mutex_);
  if (lost_) throw kafka::Fenced("the group gave this loader's partitions to another member");
  if (Clock::now() - confirmed_at_ < kFreshFor || first_offsets_.empty()) return;
  const auto give_up = Clock::now() + milliseconds(10'000);
  milliseconds backoff{100};
  while (true) {
    const auto asked = Clock::now();
    try {
      consumer_->CommitSync(first_offsets_);
      confirmed_at_ = asked;
      return;
    } catch (const kafka::Fenced&) {
      lost_ = true;
      throw;
    } catch (const Error& e) {
      if (Clock::now() > give_up) throw kafka::Fenced(std::string("cannot confirm partition ownership: ") + e.what());
      spdlog::warn("loader: {}; asking the group coordinator again", e.what());
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, milliseconds(2000));
  }
}

}  // namespace clickflow

#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace clickflow {

void InitLogging(bool verbose) {
  auto logger = spdlog::stderr_color_mt("clickflow");
  logger->set_pattern("%H:%M:%S.%e %^%-5l%$ %v");
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace clickflow

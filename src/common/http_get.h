#pragma once
// A one-shot HTTP GET for health checks (ClickHouse /ping, Airflow's health document).
#include <chrono>
#include <optional>
#include <string>

namespace clickflow {

// Body of a 200 answer; nullopt for anything else (refused, timeout, other status). Never throws.
std::optional<std::string> HttpGet(const std::string& url, std::chrono::milliseconds timeout);

}  // namespace clickflow

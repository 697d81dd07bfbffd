cmake_minimum_required(VERSION 3.25)
# Fails when a file of one layer of src/ includes a header of a layer it does not declare.
# Run at build time by clickflow_layer() (cmake/layers.cmake) with:
#   LAYER    the folder under src/ (ingest, warehouse, ...)
#   ALLOWED  comma-separated folders it may include (its own is always allowed)
#   SRC      the src/ directory
#   STAMP    file touched when the check passes
string(REPLACE "," ";" ALLOWED "${ALLOWED}")
file(GLOB files "${SRC}/${LAYER}/*.cc" "${SRC}/${LAYER}/*.h")
set(violations "")
foreach(file ${files})
  file(STRINGS "${file}" includes REGEX "^#include \"[a-z_]+/")
  foreach(line ${includes})
    string(REGEX REPLACE "^#include \"([a-z_]+)/.*" "\\1" used "${line}")
    if(NOT used STREQUAL LAYER AND NOT used IN_LIST ALLOWED)
      file(RELATIVE_PATH rel "${SRC}/.." "${file}")
      string(APPEND violations "\n  ${rel}: ${line}")
    endif()
  endforeach()
endforeach()
if(violations)
  message(FATAL_ERROR "layer '${LAYER}' may include only ${ALLOWED} (cmake/layers.cmake):${violations}")
endif()
file(TOUCH "${STAMP}")

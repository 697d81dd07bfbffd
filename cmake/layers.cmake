# Each folder of src/ is one static library, a layer of the data path. A layer declares the
# layers it uses; both the link and its #includes are checked against that list, so a file that
# reaches into a higher layer fails the build (cmake/check_layer.cmake) instead of slowly
# turning the folders into one ball of code.
#
#   clickflow_layer(NAME ingest USES common kafka clickhouse LIBS PkgConfig::RDKAFKA)
function(clickflow_layer)
  cmake_parse_arguments(LAYER "" "NAME" "USES;LIBS" ${ARGN})
  set(dir ${CMAKE_SOURCE_DIR}/src/${LAYER_NAME})
  file(GLOB sources CONFIGURE_DEPENDS ${dir}/*.cc)
  file(GLOB headers CONFIGURE_DEPENDS ${dir}/*.h)
  list(FILTER sources EXCLUDE REGEX "/main\\.cc$")
  set(target clickflow_${LAYER_NAME})
  add_library(${target} STATIC ${sources})
  target_include_directories(${target} PUBLIC ${CMAKE_SOURCE_DIR}/src ${CMAKE_BINARY_DIR}/generated)
  set(uses "")
  foreach(used ${LAYER_USES})
    list(APPEND uses clickflow_${used})
  endforeach()
  target_link_libraries(${target} PUBLIC ${uses} ${LAYER_LIBS})

  set(stamp ${CMAKE_BINARY_DIR}/layers/${LAYER_NAME}.checked)
  string(REPLACE ";" "," allowed "${LAYER_USES}")
  add_custom_command(
    OUTPUT ${stamp}
    COMMAND ${CMAKE_COMMAND} -DLAYER=${LAYER_NAME} -DALLOWED=${allowed}
            -DSRC=${CMAKE_SOURCE_DIR}/src -DSTAMP=${stamp} -P ${CMAKE_SOURCE_DIR}/cmake/check_layer.cmake
    DEPENDS ${sources} ${headers} ${CMAKE_SOURCE_DIR}/cmake/check_layer.cmake
    COMMENT "Checking the includes of layer ${LAYER_NAME}"
    VERBATIM)
  add_custom_target(${target}_layer_check DEPENDS ${stamp})
  add_dependencies(${target} ${target}_layer_check)
endfunction()

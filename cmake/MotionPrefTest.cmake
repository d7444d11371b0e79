# add_mp_test(SOURCE LINK <targets...> LABELS <labels...> [GUI] [TIMEOUT seconds])
# One executable per test file, registered with ctest under the file's name.
function(add_mp_test source)
  cmake_parse_arguments(T "GUI" "TIMEOUT" "LINK;LABELS" ${ARGN})
  get_filename_component(name ${source} NAME_WE)
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE ${T_LINK})
  mp_use_torch_pch(${name})
  # A test that links no Qt (GoogleTest on ml) needs no AUTOMOC, whose empty mocs_compilation.cpp
  # would be one more unit to compile.
  if(NOT T_LINK MATCHES "(^|;)(Qt6::[A-Za-z]+|app|ui)(;|$)")
    set_target_properties(${name} PROPERTIES AUTOMOC OFF AUTOUIC OFF AUTORCC OFF)
  endif()
  if(T_GUI)
    # Under xvfb-run when there is no display; one Xvfb at a time avoids display-number races.
    add_test(NAME ${name} COMMAND ${PROJECT_SOURCE_DIR}/tests/run-with-display.sh $<TARGET_FILE:${name}>)
    set_tests_properties(${name} PROPERTIES RESOURCE_LOCK xvfb)
  else()
    add_test(NAME ${name} COMMAND ${name})
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "MP_SOURCE_DIR=${PROJECT_SOURCE_DIR};MP_TEST_DATA=${PROJECT_SOURCE_DIR}/tests/data;MP_CLI=$<TARGET_FILE:motionpref-cli>;QT_QPA_PLATFORMTHEME=")
endfunction()

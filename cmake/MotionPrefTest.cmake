# add_mp_test(SOURCE LINK <targets...> LABELS <labels...> [GUI] [TIMEOUT seconds])
# One executable per test file, registered with ctest under the file's name (the app and gui
# tests, slow tests; tests/ml's GoogleTest files are grouped: add_mp_gtest_groups below).
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
  mp_test_properties(${name} "${T_LABELS}" "${T_TIMEOUT}")
endfunction()

# Labels, timeout (default 300 s) and environment of the ctest test NAME.
function(mp_test_properties name labels timeout)
  if(NOT timeout)
    set(timeout 300)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${labels}" TIMEOUT ${timeout}
    ENVIRONMENT "MP_SOURCE_DIR=${PROJECT_SOURCE_DIR};MP_TEST_DATA=${PROJECT_SOURCE_DIR}/tests/data;MP_CLI=$<TARGET_FILE:motionpref-cli>;QT_QPA_PLATFORMTHEME=")
endfunction()

# mp_gtest_suites(SOURCE SUITES FILTER): the GoogleTest suites SOURCE defines, from its
# TEST/TEST_F/TEST_P/TYPED_TEST/TYPED_TEST_P lines (the suite's name on the macro's line), and
# the --gtest_filter that selects exactly their tests: Suite.* for TEST and TEST_F, */Suite.* for
# TEST_P (instantiated as Prefix/Suite.Name/N), Suite/* and */Suite/* for the typed ones.
function(mp_gtest_suites source suites_out filter_out)
  file(STRINGS "${source}" lines
       REGEX "^[ \t]*(TYPED_TEST_P|TYPED_TEST|TEST_P|TEST_F|TEST)[ \t]*\\([ \t]*[A-Za-z0-9_]+")
  set(suites "")
  set(patterns "")
  foreach(line IN LISTS lines)
    string(REGEX MATCH "^[ \t]*([A-Z_]+)[ \t]*\\([ \t]*([A-Za-z0-9_]+)" match "${line}")
    set(macro "${CMAKE_MATCH_1}")
    set(suite "${CMAKE_MATCH_2}")
    list(APPEND suites ${suite})
    if(macro STREQUAL "TEST_P")
      list(APPEND patterns "*/${suite}.*")
    elseif(macro STREQUAL "TYPED_TEST")
      list(APPEND patterns "${suite}/*")
    elseif(macro STREQUAL "TYPED_TEST_P")
      list(APPEND patterns "*/${suite}/*")
    else()
      list(APPEND patterns "${suite}.*")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES suites)
  list(REMOVE_DUPLICATES patterns)
  list(JOIN patterns ":" filter)
  set(${suites_out} "${suites}" PARENT_SCOPE)
  set(${filter_out} "${filter}" PARENT_SCOPE)
endfunction()

# Sources per grouped GoogleTest executable (add_mp_gtest_groups).
set(MP_TEST_GROUP_SIZE 8 CACHE STRING "GoogleTest sources per grouped test executable")

# add_mp_gtest_groups(PREFIX SOURCE... LINK <targets...> LABELS <labels...> [TIMEOUT seconds])
# GoogleTest files built as a few executables instead of one each, with one ctest test per file,
# named after the file as add_mp_test names it, that runs the file's group executable with a
# --gtest_filter selecting the file's suites (mp_gtest_suites). The sources are sorted, split into
# those that include torch (mp_includes_torch: they get ml's precompiled header) and those that
# do not, and each kind is cut into groups of MP_TEST_GROUP_SIZE: PREFIX_torch_0, PREFIX_torch_1,
# ..., PREFIX_0, ... With MP_UNITY_BUILD a group is compiled as one translation unit (unity
# build): names at file scope and in anonymous namespaces must differ between the files of a
# group. A file whose suite names another file of its group already uses, or in which no suite is
# found, is built on its own (add_mp_test), with a warning.
function(add_mp_gtest_groups prefix)
  cmake_parse_arguments(G "" "TIMEOUT" "LINK;LABELS" ${ARGN})
  set(sources ${G_UNPARSED_ARGUMENTS})
  list(SORT sources)
  set(torch_sources "")
  set(plain_sources "")
  foreach(source IN LISTS sources)
    mp_includes_torch("${source}" torch)
    if(torch)
      list(APPEND torch_sources "${source}")
    else()
      list(APPEND plain_sources "${source}")
    endif()
  endforeach()
  foreach(kind torch plain)
    set(count 0)
    foreach(source IN LISTS ${kind}_sources)
      math(EXPR group "${count} / ${MP_TEST_GROUP_SIZE}")
      if(kind STREQUAL "torch")
        set(group "${prefix}_torch_${group}")
      else()
        set(group "${prefix}_${group}")
      endif()
      math(EXPR count "${count} + 1")
      get_filename_component(name "${source}" NAME_WE)
      mp_gtest_suites("${source}" suites filter)
      set(clash "")
      foreach(suite IN LISTS suites)
        if(suite IN_LIST suites_${group})
          set(clash "${suite}")
        endif()
      endforeach()
      if(NOT filter OR clash)
        if(clash)
          message(AUTHOR_WARNING "${name}: suite ${clash} is used by another test of ${group}; "
                                 "built on its own")
        else()
          message(AUTHOR_WARNING "${name}: no TEST/TEST_F/TEST_P line found; built on its own")
        endif()
        add_mp_test("${source}" LINK ${G_LINK} LABELS ${G_LABELS} TIMEOUT "${G_TIMEOUT}")
        continue()
      endif()
      list(APPEND suites_${group} ${suites})
      if(NOT TARGET ${group})
        add_executable(${group})
        target_link_libraries(${group} PRIVATE ${G_LINK})
        mp_use_torch_pch(${group})
        set_target_properties(${group} PROPERTIES AUTOMOC OFF AUTOUIC OFF AUTORCC OFF)
        # -O1 instead of RelWithDebInfo's -O2 for the tests' own code (ml stays at -O2; GCC uses
        # ml's -O2 precompiled header at -O1): a torch group compiles in about 20% less CPU.
        # -Wsubobject-linkage: GCC takes the files included by a unity source for headers and
        # warns about their fixtures in anonymous namespaces.
        target_compile_options(${group} PRIVATE $<$<CONFIG:RelWithDebInfo>:-O1>
                                                $<$<CXX_COMPILER_ID:GNU>:-Wno-subobject-linkage>)
        if(MP_UNITY_BUILD)
          # One unity source for the whole group (mp_skip_pch_without_torch's UNITY_GROUPs only
          # count in GROUP mode).
          set_target_properties(${group} PROPERTIES UNITY_BUILD ON UNITY_BUILD_MODE BATCH
                                                    UNITY_BUILD_BATCH_SIZE 0)
        endif()
      endif()
      target_sources(${group} PRIVATE "${source}")
      add_test(NAME ${name} COMMAND ${group} --gtest_filter=${filter})
      mp_test_properties(${name} "${G_LABELS}" "${G_TIMEOUT}")
    endforeach()
  endforeach()
endfunction()

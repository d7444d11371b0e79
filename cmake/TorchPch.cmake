# ml's precompiled torch header (ml/ml_pch.h: torch/torch.h and nlohmann/json), and only for the
# translation units that include torch.
#
# Loading the header costs about 4.5 s of CPU per translation unit even when the unit uses nothing
# of it (tests/bench/RESULTS.md, The cold build), so a unit that includes no torch header,
# directly or through the project's own headers, is compiled without it
# (SKIP_PRECOMPILE_HEADERS): Qt-only units, the GoogleTest tests that never touch a tensor,
# AUTOMOC's mocs_compilation.cpp. Which units include torch is found at configure time by
# following the `#include "..."` lines of the project's files (mp_includes_torch). A unit that
# starts including torch after the last configure still compiles correctly, only without the
# header's speed-up, until CMake runs again.

# Sets OUT to ON when FILE includes a torch header (torch/..., ATen/...), directly or through the
# project's own headers ("..." includes, resolved against the file's folder and the source root).
# Answers are cached per file for the whole configure run. c10/ and torch/version.h alone do not
# count: parsing c10/core/Device.h costs about 0.5 s of CPU, loading the precompiled header 4.5 s.
# ATen/core/Tensor.h alone (1.5 s) does count: files that include only it use torch:: names that
# the precompiled header has always given them.
function(mp_includes_torch file out)
  get_property(known GLOBAL PROPERTY "MP_TORCH_INCLUDE:${file}" SET)
  if(known)
    get_property(answer GLOBAL PROPERTY "MP_TORCH_INCLUDE:${file}")
    set(${out} ${answer} PARENT_SCOPE)
    return()
  endif()
  set_property(GLOBAL PROPERTY "MP_TORCH_INCLUDE:${file}" OFF) # include cycles end here
  set(answer OFF)
  if(EXISTS "${file}")
    file(STRINGS "${file}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
    get_filename_component(dir "${file}" DIRECTORY)
    foreach(line IN LISTS lines)
      if(line MATCHES "[<\"](torch|ATen)/" AND NOT line MATCHES "torch/version\\.h")
        set(answer ON)
      elseif(line MATCHES "\"([^\"]+)\"")
        set(included "${CMAKE_MATCH_1}")
        foreach(candidate "${dir}/${included}" "${PROJECT_SOURCE_DIR}/${included}")
          if(NOT answer AND EXISTS "${candidate}" AND NOT IS_DIRECTORY "${candidate}")
            get_filename_component(candidate "${candidate}" ABSOLUTE)
            mp_includes_torch("${candidate}" answer)
          endif()
        endforeach()
      endif()
      if(answer)
        break()
      endif()
    endforeach()
  endif()
  set_property(GLOBAL PROPERTY "MP_TORCH_INCLUDE:${file}" ${answer})
  set(${out} ${answer} PARENT_SCOPE)
endfunction()

# Unity (jumbo) builds of the torch sources: the sources of a target that include torch are
# compiled MP_UNITY_BATCH at a time, as one translation unit, so the precompiled header is loaded
# once for all of them and torch's templates are instantiated once (8 of ml/data's files: 66 s of
# CPU one by one, 21 s as one unit). Off for faster edit-compile cycles on one file.
option(MP_UNITY_BUILD "Compile the torch sources of ml in batches (unity build)" ON)
set(MP_UNITY_BATCH 8 CACHE STRING "Sources per unity translation unit")

# Gives TARGET ml's precompiled torch header, for those of its sources that include torch, and
# none at all when none does. With UNITY (and MP_UNITY_BUILD), those sources are compiled in
# batches. The sources are looked at when the top-level CMakeLists.txt has been read, so sources
# added to the target after this call count too.
function(mp_use_torch_pch target)
  cmake_parse_arguments(PCH "UNITY" "" "" ${ARGN})
  if(PCH_UNITY AND MP_UNITY_BUILD)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_MODE GROUP)
  endif()
  # DEFER expands variables when the call runs: EVAL puts the target's name in now.
  cmake_language(EVAL CODE "cmake_language(DEFER DIRECTORY [[${PROJECT_SOURCE_DIR}]]
                                           CALL mp_skip_pch_without_torch [[${target}]])")
endfunction()

# SKIP_PRECOMPILE_HEADERS on TARGET's C++ sources that include no torch header, and on its
# AUTOMOC unit unless a header next to one of its sources declares a Q_OBJECT and includes torch.
function(mp_skip_pch_without_torch target)
  get_target_property(sources ${target} SOURCES)
  get_target_property(source_dir ${target} SOURCE_DIR)
  get_target_property(binary_dir ${target} BINARY_DIR)
  set(skip "")
  set(sources_torch OFF)
  set(torch_sources "")
  set(moc_torch OFF)
  foreach(source IN LISTS sources)
    if(NOT source MATCHES "\\.(cpp|cc|cxx)$" OR source MATCHES "^\\$<")
      continue()
    endif()
    get_filename_component(path "${source}" ABSOLUTE BASE_DIR "${source_dir}")
    if(NOT EXISTS "${path}") # generated (the CLI's command table): no torch
      list(APPEND skip "${path}")
      continue()
    endif()
    mp_includes_torch("${path}" torch)
    if(torch)
      set(sources_torch ON)
      list(APPEND torch_sources "${path}")
    else()
      list(APPEND skip "${path}")
    endif()
    string(REGEX REPLACE "\\.[a-z]+$" ".h" header "${path}")
    if(NOT moc_torch AND EXISTS "${header}")
      file(STRINGS "${header}" qobject REGEX "Q_OBJECT|Q_GADGET|Q_NAMESPACE")
      if(qobject)
        mp_includes_torch("${header}" moc_torch)
      endif()
    endif()
  endforeach()
  get_target_property(automoc ${target} AUTOMOC)
  if(automoc AND NOT moc_torch)
    list(APPEND skip "${binary_dir}/${target}_autogen/mocs_compilation.cpp")
  endif()
  if(NOT target STREQUAL "ml")
    if(NOT sources_torch AND NOT moc_torch)
      return() # no source includes torch: no header at all, for AUTORCC's qrc_*.cpp too
    endif()
    target_precompile_headers(${target} REUSE_FROM ml)
  endif()
  if(skip)
    set_source_files_properties(${skip} TARGET_DIRECTORY ${target}
                                PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
  endif()
  # Unity build: the torch sources of each folder in groups of MP_UNITY_BATCH, so that a file
  # added to one folder regroups only that folder's files. The others, cheap to compile, stay
  # single units (in GROUP mode a source without a UNITY_GROUP is compiled on its own). Files of
  # one group share one translation unit: names in their anonymous namespaces must differ.
  get_target_property(unity ${target} UNITY_BUILD)
  if(unity)
    foreach(path IN LISTS torch_sources)
      get_filename_component(folder "${path}" DIRECTORY)
      file(RELATIVE_PATH folder "${PROJECT_SOURCE_DIR}" "${folder}")
      string(MAKE_C_IDENTIFIER "${folder}" folder)
      if(NOT DEFINED count_${folder})
        set(count_${folder} 0)
      endif()
      math(EXPR group "${count_${folder}} / ${MP_UNITY_BATCH}")
      set_source_files_properties("${path}" TARGET_DIRECTORY ${target}
                                  PROPERTIES UNITY_GROUP "${folder}_${group}")
      math(EXPR count_${folder} "${count_${folder}} + 1")
    endforeach()
  endif()
endfunction()

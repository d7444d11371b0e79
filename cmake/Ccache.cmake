# Use ccache when present; the sloppiness settings let it cache translation units that use
# the precompiled torch header.
# A launcher given on the command line (-DCMAKE_CXX_COMPILER_LAUNCHER=...) is kept.
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(_mp_launcher ${CMAKE_COMMAND} -E env
      CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
      CCACHE_BASEDIR=${CMAKE_SOURCE_DIR} ${CCACHE_PROGRAM})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${_mp_launcher})
endif()

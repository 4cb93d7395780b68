# Installation: headers, static libraries and a CMake package so that consumers can write
#   find_package(descent CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE descent::descent)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS descent_autograd descent_testing descent_nn descent_optim descent_data descent_all
        EXPORT descentTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY autograd/include/descent autograd/testing/include/descent nn/include/descent
                  optim/include/descent data/include/descent
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES data/bundled/digits.csv data/bundled/iris.csv data/bundled/wine.csv
              data/bundled/tinyshakespeare.txt.gz
              data/bundled/README.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/descent/data)
install(EXPORT descentTargets NAMESPACE descent:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/descent)
if(DESCENT_DISTRIBUTED)  # the distributed component: find_package(descent COMPONENTS distributed)
  install(TARGETS descent_distributed EXPORT descentDistributedTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(DIRECTORY distributed/include/descent DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT descentDistributedTargets NAMESPACE descent::
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/descent)
endif()

configure_package_config_file(cmake/descentConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/descentConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/descent)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/descentConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/descentConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/descentConfigVersion.cmake
              ${CMAKE_CURRENT_SOURCE_DIR}/cmake/descent_pch.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/descent)

if(DESCENT_NATIVE)
  install(CODE "message(STATUS \"descent: built with -march=native (${DESCENT_NATIVE_ARCH}): \
binaries using this installation run only on CPUs with that instruction set; configure with \
-DDESCENT_NATIVE=OFF for a portable build\")")
endif()

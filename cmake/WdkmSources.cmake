# The library's sources, shared by the host and kernel builds.
set(WDKM_LIBRARY_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/../src/wdkm_csq.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/wdkm_debug.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/wdkm_diag.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/wdkm_fastmutex.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/wdkm_grt.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/wdkm_guardedmutex.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/wdkm_kmutex.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/wdkm_lock.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/wdkm_lock_kinds.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/wdkm_pool.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/wdkm_region.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/wdkm_rwlock.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/wdkm_spinlock.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/wdkm_status.c
  ${CMAKE_CURRENT_LIST_DIR}/../port/wdk/wdkm_port_wdk.c
)

/*
 * node_cross_config.h - the Mbed TLS 2.28 configuration bench/node_cross
 * builds libfbnode's back-end with for Cortex-M: only what fbnode_mbedtls.c
 * calls (HMAC and HKDF over SHA-256, AES-128-CCM through the cipher layer),
 * sized for a microcontroller.  A firmware project would start from this.
 */
#ifndef FB_NODE_CROSS_CONFIG_H
#define FB_NODE_CROSS_CONFIG_H

#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER		/* a loop, not 64 unrolled rounds */
#define MBEDTLS_MD_C
#define MBEDTLS_HKDF_C
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES		/* tables in flash, not in RAM */
#define MBEDTLS_AES_FEWER_TABLES	/* 2 KiB of tables instead of 8 */
#define MBEDTLS_CIPHER_C
#define MBEDTLS_CCM_C

/*
 * The cipher and md layers allocate their contexts for one call; a node
 * without malloc gives Mbed TLS a static arena
 * (mbedtls_memory_buffer_alloc_init), and no C library function is
 * called through the platform layer.
 */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
/* The allocator stops the program when it finds its arena corrupt: the
 * firmware says how (mbedtls_platform_set_exit), so nothing needs exit(). */
#define MBEDTLS_PLATFORM_EXIT_ALT

#include "mbedtls/check_config.h"

#endif

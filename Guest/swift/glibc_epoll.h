/*
 * glibc_epoll.h — the C declarations Swift's Glibc module leaves out (sys/epoll.h), given
 * to swiftc as a bridging header (-import-objc-header) for Guest/swift/httpd.swift.
 * Layer: guest programs.
 */
#include <sys/epoll.h>

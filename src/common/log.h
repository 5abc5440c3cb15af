/*
 * log.h: messages to stderr, prefixed with the program name.
 * log_warn adds strerror(errno); log_warnx does not.
 */
#ifndef SMTPSNIFF_LOG_H
#define SMTPSNIFF_LOG_H

#define ERRBUF_SIZE	256

void	log_warn(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

#endif /* SMTPSNIFF_LOG_H */

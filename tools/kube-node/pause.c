/*
 * The pod sandbox's only process: it holds the pod's namespaces open until the runtime stops it.
 * It exits cleanly on SIGINT or SIGTERM and reaps any child that ends up in its PID namespace.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int sig) {
  (void) sig;
  _exit(0);
}

static void reap(int sig) {
  (void) sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

static void on(int sig, void (*handler)(int)) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = handler;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  if (sigaction(sig, &action, NULL) != 0) {
    _exit(1);
  }
}

int main(void) {
  on(SIGINT, stop);
  on(SIGTERM, stop);
  on(SIGCHLD, reap);
  for (;;) {
    pause();
  }
}

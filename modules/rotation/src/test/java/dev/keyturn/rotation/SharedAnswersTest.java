package dev.keyturn.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyturn.rotation.internal.SharedAnswers;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SharedAnswersTest {
  final FakeScheduler scheduler = new FakeScheduler();
  final SharedAnswers shared = new SharedAnswers(scheduler.clock(), Duration.ofSeconds(2));
  final AtomicInteger calls = new AtomicInteger();

  MountRequest request(String account, String token) {
    return MountRequest.builder(Path.of("/mnt/secrets-store"))
        .attribute("objects", "db")
        .attribute("csi.storage.k8s.io/pod.namespace", "shop")
        .attribute("csi.storage.k8s.io/serviceAccount.name", account)
        .attribute("csi.storage.k8s.io/serviceAccount.tokens", token)
        .build();
  }

  MountResponse call(String caller, MountRequest request) {
    return shared.call(
        "vault",
        request,
        caller,
        () -> {
          calls.incrementAndGet();
          return MountResponse.of(List.of(), List.of());
        });
  }

  @Test
  void theSameIdentityAskingTheSameThingSharesOneCallWithinTheWindow() {
    call("shop/a", request("app", "token-1"));
    // Another SecretSync, same account; its token is another string of the same identity.
    call("shop/b", request("app", "token-2"));
    assertThat(calls).hasValue(1);
    // Another account is another identity: never shared.
    call("shop/c", request("other", "token-3"));
    assertThat(calls).hasValue(2);
    // The same caller asking again always calls (a forced sync is fresh).
    call("shop/a", request("app", "token-1"));
    assertThat(calls).hasValue(3);
    scheduler.advance(Duration.ofSeconds(3));
    call("shop/d", request("app", "token-1"));
    assertThat(calls).hasValue(4);
  }
}

package dev.keyturn.secretsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1DeploymentSpec;
import io.kubernetes.client.openapi.models.V1LabelSelector;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1OwnerReference;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PodTemplateSpec;
import io.kubernetes.client.openapi.models.V1ReplicaSet;
import io.kubernetes.client.openapi.models.V1ReplicaSetSpec;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restart on rotation: many pods of one Deployment rotated within the window give one template
 * patch.
 */
@KubernetesTest
class RolloutRestarterTest {
  @TempDir Path dir;

  @Test
  void aBurstOfRotationsAcrossAWorkloadRestartsItOnce(KubeContext kube) throws Exception {
    Map<String, String> labels = Map.of("app", "env-reader");
    AppsV1Api apps = new AppsV1Api(kube.client());
    V1Deployment deployment =
        apps.createNamespacedDeployment(
                kube.namespace(),
                new V1Deployment()
                    .apiVersion("apps/v1")
                    .kind("Deployment")
                    .metadata(new V1ObjectMeta().name("env-reader"))
                    .spec(
                        new V1DeploymentSpec()
                            .replicas(5)
                            .selector(new V1LabelSelector().matchLabels(labels))
                            .template(
                                new V1PodTemplateSpec()
                                    .metadata(new V1ObjectMeta().labels(labels))
                                    .spec(SecretSyncerTest.podSpec()))))
            .execute();
    V1ReplicaSet rs =
        apps.createNamespacedReplicaSet(
                kube.namespace(),
                new V1ReplicaSet()
                    .apiVersion("apps/v1")
                    .kind("ReplicaSet")
                    .metadata(
                        new V1ObjectMeta()
                            .name("env-reader-7c9")
                            .ownerReferences(
                                List.of(
                                    new V1OwnerReference()
                                        .apiVersion("apps/v1")
                                        .kind("Deployment")
                                        .name("env-reader")
                                        .uid(deployment.getMetadata().getUid())
                                        .controller(true))))
                    .spec(
                        new V1ReplicaSetSpec()
                            .replicas(5)
                            .selector(new V1LabelSelector().matchLabels(labels))
                            .template(
                                new V1PodTemplateSpec()
                                    .metadata(new V1ObjectMeta().labels(labels))
                                    .spec(SecretSyncerTest.podSpec()))))
            .execute();
    List<V1Pod> pods = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      pods.add(
          SecretSyncerTest.createPod(
              kube,
              Map.of(
                  "name",
                  "env-reader-7c9-p" + i,
                  "labels",
                  labels,
                  "ownerReferences",
                  List.of(
                      Map.of(
                          "apiVersion",
                          "apps/v1",
                          "kind",
                          "ReplicaSet",
                          "name",
                          rs.getMetadata().getName(),
                          "uid",
                          rs.getMetadata().getUid(),
                          "controller",
                          true)))));
    }
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    try {
      RolloutRestarter restarter =
          RolloutRestarter.create(kube.client(), scheduler, Duration.ofMillis(500));
      SecretSyncer syncer =
          SecretSyncer.create(kube.client(), Clock.systemUTC(), "keyturn-test")
              .withRestarter(restarter);
      Path volume = Volumes.volume(dir.resolve("v"), Map.of("db/user", "u", "db/password", "p1"));
      for (V1Pod pod : pods) {
        syncer.sync(restarting(kube, pod, volume));
      }
      List<String> patches = Collections.synchronizedList(new ArrayList<>());
      OkHttpClient original = kube.client().getHttpClient();
      kube.client()
          .setHttpClient(
              original
                  .newBuilder()
                  .addInterceptor(
                      chain -> {
                        if (chain.request().method().equals("PATCH")) {
                          patches.add(chain.request().url().encodedPath());
                        }
                        return chain.proceed(chain.request());
                      })
                  .build());
      try {
        Volumes.volume(volume, Map.of("db/user", "u", "db/password", "p2"));
        // Every pod's volume sees the rotation; the shared Secret is updated once, and each pod
        // asks.
        for (V1Pod pod : pods) {
          syncer.sync(restarting(kube, pod, volume));
        }
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(patches).hasSize(1));
        // A burst of requests for the workload (say, several rotated Secrets) within the window:
        // one more patch.
        for (int i = 0; i < 5; i++) {
          restarter.request(
              kube.namespace(), pods.get(i).getMetadata().getOwnerReferences(), "burst-" + i);
        }
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(patches).hasSize(2));
        await()
            .pollDelay(Duration.ofSeconds(1))
            .atMost(Duration.ofSeconds(5))
            .untilAsserted(() -> assertThat(patches).hasSize(2));
      } finally {
        kube.client().setHttpClient(original);
      }
      assertThat(patches.get(0)).endsWith("/deployments/env-reader");
      V1Deployment after = apps.readNamespacedDeployment("env-reader", kube.namespace()).execute();
      assertThat(after.getSpec().getTemplate().getMetadata().getAnnotations())
          .containsEntry(RolloutRestarter.ANNOTATION, "burst-4");
      assertThat(after.getSpec().getTemplate().getMetadata().getLabels()).isEqualTo(labels);
    } finally {
      scheduler.shutdownNow();
    }
  }

  static SyncTarget restarting(KubeContext kube, V1Pod pod, Path volume) {
    return new SyncTarget(
        kube.namespace(),
        pod.getMetadata().getName(),
        pod.getMetadata().getUid(),
        volume,
        List.of(SecretSyncerTest.dbSecret()),
        true);
  }
}

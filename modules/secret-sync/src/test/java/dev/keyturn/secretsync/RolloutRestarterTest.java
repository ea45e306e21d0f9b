package dev.keyturn.secretsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
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
    V1ReplicaSet rs = deploymentWithReplicaSet(kube, "env-reader", labels);
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
      OkHttpClient original = recordPatches(kube, patches);
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
          restarter.request(pods.get(i), "burst-" + i);
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

  /**
   * A Deployment {@code name} and its ReplicaSet {@code name-7c9}, as the Deployment controller
   * makes them.
   */
  static V1ReplicaSet deploymentWithReplicaSet(
      KubeContext kube, String name, Map<String, String> labels) throws Exception {
    AppsV1Api apps = new AppsV1Api(kube.client());
    V1Deployment deployment =
        apps.createNamespacedDeployment(
                kube.namespace(),
                new V1Deployment()
                    .apiVersion("apps/v1")
                    .kind("Deployment")
                    .metadata(new V1ObjectMeta().name(name))
                    .spec(
                        new V1DeploymentSpec()
                            .replicas(5)
                            .selector(new V1LabelSelector().matchLabels(labels))
                            .template(podTemplate(labels))))
            .execute();
    return apps.createNamespacedReplicaSet(
            kube.namespace(),
            new V1ReplicaSet()
                .apiVersion("apps/v1")
                .kind("ReplicaSet")
                .metadata(
                    new V1ObjectMeta()
                        .name(name + "-7c9")
                        .ownerReferences(
                            List.of(
                                new V1OwnerReference()
                                    .apiVersion("apps/v1")
                                    .kind("Deployment")
                                    .name(name)
                                    .uid(deployment.getMetadata().getUid())
                                    .controller(true))))
                .spec(
                    new V1ReplicaSetSpec()
                        .replicas(5)
                        .selector(new V1LabelSelector().matchLabels(labels))
                        .template(podTemplate(labels))))
        .execute();
  }

  private static V1PodTemplateSpec podTemplate(Map<String, String> labels) {
    return new V1PodTemplateSpec()
        .metadata(new V1ObjectMeta().labels(labels))
        .spec(SecretSyncerTest.podSpec());
  }

  /**
   * Has the test's client add the path of every PATCH it sends to {@code patches}; the client it
   * had, to put back.
   */
  private static OkHttpClient recordPatches(KubeContext kube, List<String> patches) {
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
    return original;
  }

  private static Map<String, Object> owner(String kind, String name, String uid) {
    return Map.of(
        "apiVersion", "apps/v1", "kind", kind, "name", name, "uid", uid, "controller", true);
  }

  @Test
  void aPodThatNamesAnotherWorkloadAsItsOwnerRestartsNothingAndOwnsItsSecretItself(KubeContext kube)
      throws Exception {
    Map<String, String> labels = Map.of("app", "victim");
    V1ReplicaSet victimRs = deploymentWithReplicaSet(kube, "victim-deploy", labels);
    String deploymentUid = victimRs.getMetadata().getOwnerReferences().get(0).getUid();
    String rsUid = victimRs.getMetadata().getUid();
    // Bare pods of the attacker, each naming the victim as its controller in another way.
    List<V1Pod> attackers =
        List.of(
            // The Deployment itself (the attack as found): Deployments own ReplicaSets, not pods.
            SecretSyncerTest.createPod(
                kube,
                Map.of(
                    "name",
                    "forged-deploy",
                    "labels",
                    labels,
                    "ownerReferences",
                    List.of(owner("Deployment", "victim-deploy", deploymentUid)))),
            // The ReplicaSet by name with a uid of the attacker's choosing.
            SecretSyncerTest.createPod(
                kube,
                Map.of(
                    "name",
                    "forged-uid",
                    "labels",
                    labels,
                    "ownerReferences",
                    List.of(owner("ReplicaSet", "victim-deploy-7c9", "0000-forged")))),
            // The ReplicaSet with its real uid, but not selected by it.
            SecretSyncerTest.createPod(
                kube,
                Map.of(
                    "name", "unselected",
                    "labels", Map.of("app", "attacker"),
                    "ownerReferences", List.of(owner("ReplicaSet", "victim-deploy-7c9", rsUid)))));
    List<String> patches = Collections.synchronizedList(new ArrayList<>());
    OkHttpClient original = recordPatches(kube, patches);
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    try {
      RolloutRestarter restarter =
          RolloutRestarter.create(kube.client(), scheduler, Duration.ofMillis(100));
      SecretSyncer syncer =
          SecretSyncer.create(kube.client(), Clock.systemUTC(), "keyturn-test")
              .withRestarter(restarter);
      int i = 0;
      for (V1Pod pod : attackers) {
        assertThat(restarter.verifiedController(pod)).as(pod.getMetadata().getName()).isEmpty();
        Path volume =
            Volumes.volume(dir.resolve("a" + i++), Map.of("db/user", "u", "db/password", "p1"));
        syncer.sync(restarting(kube, pod, volume));
        Volumes.volume(volume, Map.of("db/user", "u", "db/password", "p-" + i));
        syncer.sync(restarting(kube, pod, volume));
        restarter.request(pod, "attack-" + i);
      }
      // A pod the ReplicaSet really controls is restarted: the checks above are not blind.
      V1Pod real =
          SecretSyncerTest.createPod(
              kube,
              Map.of(
                  "name",
                  "victim-deploy-7c9-p0",
                  "labels",
                  labels,
                  "ownerReferences",
                  List.of(owner("ReplicaSet", "victim-deploy-7c9", rsUid))));
      assertThat(restarter.verifiedController(real)).isPresent();
      restarter.request(real, "legitimate");
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(patches).hasSize(1));
      await()
          .pollDelay(Duration.ofSeconds(1))
          .atMost(Duration.ofSeconds(5))
          .untilAsserted(() -> assertThat(patches).hasSize(1));
      assertThat(patches.get(0)).endsWith("/deployments/victim-deploy");
      V1Deployment victim =
          new AppsV1Api(kube.client())
              .readNamespacedDeployment("victim-deploy", kube.namespace())
              .execute();
      assertThat(victim.getSpec().getTemplate().getMetadata().getAnnotations())
          .containsEntry(RolloutRestarter.ANNOTATION, "legitimate");
      // The attackers' shared Secret is owned by the first attacker pod, never by the victim.
      assertThat(
              new CoreV1Api(kube.client())
                  .readNamespacedSecret("db-credentials", kube.namespace())
                  .execute()
                  .getMetadata()
                  .getOwnerReferences())
          .extracting(V1OwnerReference::getKind, V1OwnerReference::getName)
          .containsExactly(tuple("Pod", "forged-deploy"));
    } finally {
      kube.client().setHttpClient(original);
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

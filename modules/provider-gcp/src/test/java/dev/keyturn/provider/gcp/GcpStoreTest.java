package dev.keyturn.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.spi.SecretProvider;
import dev.keyturn.testing.kubernetes.KubernetesExtension;
import dev.keyturn.testing.stores.SecretManagerStandIn;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gcp provider against the Secret Manager, STS and IAM Credentials stand-in, with service
 * accounts on a Kubernetes API server: workload identity with and without impersonation, what it
 * writes and reports, and what it refuses.
 */
class GcpStoreTest {
  static final String NS = "gcp-" + UUID.randomUUID().toString().substring(0, 8);
  static SecretManagerStandIn standIn;
  static KubernetesExtension.Cluster cluster;
  static SecretProvider provider;

  @TempDir Path target;

  @BeforeAll
  static void start() throws Exception {
    standIn = GcpFixture.start(NS);
    cluster = KubernetesExtension.Cluster.open();
    dev.keyturn.testing.stores.Stores.requireRealApiServer(
        cluster.real(),
        "service accounts' annotations are read from the real kube-apiserver (KEYTURN_IT_KUBECONFIG;"
            + " tools/stores/run-tests.sh starts one)");
    CoreV1Api core = new CoreV1Api(cluster.client());
    core.createNamespace(new V1Namespace().metadata(new V1ObjectMeta().name(NS))).execute();
    for (String account : new String[] {"reader", "stranger"}) {
      core.createNamespacedServiceAccount(
              NS, new V1ServiceAccount().metadata(new V1ObjectMeta().name(account)))
          .execute();
    }
    core.createNamespacedServiceAccount(
            NS,
            new V1ServiceAccount()
                .metadata(
                    new V1ObjectMeta()
                        .name("impersonator")
                        .annotations(Map.of(ServiceAccountBindings.ANNOTATION, GcpFixture.GSA))))
        .execute();
    provider = new GcpProviderFactory().create(GcpFixture.settings(standIn, cluster.kubeconfig()));
  }

  @AfterAll
  static void stop() {
    if (provider != null) {
      provider.close();
    }
    if (standIn != null) {
      standIn.close();
    }
  }

  static String secret(String name) {
    return "projects/"
        + GcpFixture.PROJECT
        + "/secrets/"
        + name
        + "-"
        + UUID.randomUUID().toString().substring(0, 6);
  }

  static Map<String, String> texts(MountResponse r) {
    return r.files().stream()
        .collect(
            Collectors.toMap(
                f -> f.path().value(), f -> new String(f.contents(), StandardCharsets.UTF_8)));
  }

  @Test
  void theUpstreamExampleWritesTwoFilesOfOneSecretReadOnce() throws Exception {
    String s = secret("testsecret");
    standIn.addVersion(s, "first".getBytes(StandardCharsets.UTF_8));
    String latest =
        standIn.addVersion(
            s, "{\"user\":\"admin\",\"password\":\"pw\"}".getBytes(StandardCharsets.UTF_8));
    long before = standIn.served(":access 200");
    MountResponse r =
        provider.mount(
            GcpFixture.request(
                    target,
                    "- resourceName: \""
                        + s
                        + "/versions/latest\"\n"
                        + "  path: \"good1.txt\"\n"
                        + "- resourceName: \""
                        + s
                        + "/versions/latest\"\n"
                        + "  path: \"good2.txt\"\n"
                        + "  extractJSONKey: user\n"
                        + "  mode: 0400\n",
                    NS,
                    "reader")
                .build());
    assertThat(texts(r))
        .containsEntry("good1.txt", "{\"user\":\"admin\",\"password\":\"pw\"}")
        .containsEntry("good2.txt", "admin");
    assertThat(
            r.files().stream()
                .filter(f -> f.path().value().equals("good2.txt"))
                .findFirst()
                .orElseThrow()
                .mode())
        .isEqualTo(FileMode.of(0400));
    // Upstream's ids are the names as written, its versions the names Secret Manager resolves.
    assertThat(latest).startsWith("projects/" + GcpFixture.NUMBER + "/");
    assertThat(r.versionMap()).containsExactly(Map.entry(s + "/versions/latest", latest));
    assertThat(standIn.served(":access 200") - before).as("one access for both files").isEqualTo(1);
  }

  @Test
  void aNumberedVersionIsReadOnceAndAnAliasAtEveryCheck() throws Exception {
    String s = secret("pinned");
    standIn.addVersion(s, "v1".getBytes(StandardCharsets.UTF_8));
    standIn.addVersion(s, "v2".getBytes(StandardCharsets.UTF_8));
    MountRequest pinned =
        GcpFixture.request(
                target, "- {resourceName: " + s + "/versions/1, fileName: a}", NS, "reader")
            .build();
    MountRequest alias =
        GcpFixture.request(
                target, "- {resourceName: " + s + "/versions/latest, fileName: a}", NS, "reader")
            .build();
    long before = standIn.served(":access 200");
    for (int i = 0; i < 3; i++) {
      assertThat(texts(provider.mount(pinned))).containsEntry("a", "v1");
    }
    assertThat(standIn.served(":access 200") - before).isEqualTo(1);
    for (int i = 0; i < 3; i++) {
      assertThat(texts(provider.mount(alias))).containsEntry("a", "v2");
    }
    assertThat(standIn.served(":access 200") - before).isEqualTo(4);
  }

  @Test
  void aRegionalSecretAndAYamlKeyAreRead() throws Exception {
    String s =
        "projects/"
            + GcpFixture.PROJECT
            + "/locations/us-central1/secrets/regional-"
            + UUID.randomUUID().toString().substring(0, 6);
    String version =
        standIn.addVersion(
            s, "user: regional-admin\nport: 5432\n".getBytes(StandardCharsets.UTF_8));
    MountResponse r =
        provider.mount(
            GcpFixture.request(
                    target,
                    "- {resourceName: " + s + "/versions/latest, path: user, extractYAMLKey: user}",
                    NS,
                    "reader")
                .build());
    assertThat(texts(r)).containsEntry("user", "regional-admin");
    assertThat(version).contains("/locations/us-central1/");
    assertThat(r.versionMap()).containsEntry(s + "/versions/latest", version);
  }

  @Test
  void anAccountNamingAGoogleServiceAccountReadsAsItExchangingOnce() throws Exception {
    String s = secret("impersonated");
    standIn.addVersion(s, "as-gsa".getBytes(StandardCharsets.UTF_8));
    long sts = standIn.served("POST /v1/token 200");
    long iam = standIn.served(":generateAccessToken 200");
    for (int i = 0; i < 3; i++) {
      MountResponse r =
          provider.mount(
              GcpFixture.request(
                      target,
                      "- {resourceName: " + s + "/versions/latest, fileName: v}",
                      NS,
                      "impersonator")
                  .build());
      assertThat(texts(r)).containsEntry("v", "as-gsa");
    }
    assertThat(standIn.served("POST /v1/token 200") - sts).as("one token exchange").isEqualTo(1);
    assertThat(standIn.served(":generateAccessToken 200") - iam)
        .as("one impersonation")
        .isEqualTo(1);
  }

  @Test
  void anAccountWithoutAccessIsDeniedAndSaysSo() throws Exception {
    String s = secret("guarded");
    standIn.addVersion(s, "not-for-strangers".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(
            () ->
                provider.mount(
                    GcpFixture.request(
                            target,
                            "- {resourceName: " + s + "/versions/latest, fileName: v}",
                            NS,
                            "stranger")
                        .build()))
        .isInstanceOfSatisfying(
            ProviderException.class,
            e -> {
              assertThat(e.code()).isEqualTo("AccessDenied");
              assertThat(e.getMessage()).contains("PERMISSION_DENIED");
              assertThat(e.getMessage().contains("not-for-strangers")).isFalse();
            });
  }

  @Test
  void aMissingVersionIsNotFound() {
    assertThatThrownBy(
            () ->
                provider.mount(
                    GcpFixture.request(
                            target,
                            "- {resourceName: "
                                + secret("nowhere")
                                + "/versions/latest, fileName: v}",
                            NS,
                            "reader")
                        .build()))
        .isInstanceOfSatisfying(
            ProviderException.class,
            e -> {
              assertThat(e.code()).isEqualTo("NotFound");
              assertThat(e.reason()).isEqualTo(KeyturnException.Reason.NOT_FOUND);
            });
  }

  @Test
  void withoutATokenOrWithTheNodesIdentityNothingIsCalled() throws Exception {
    long before = standIn.served("POST /v1/token");
    MountRequest withToken =
        GcpFixture.request(
                target,
                "- {resourceName: " + secret("x") + "/versions/1, fileName: v}",
                NS,
                "reader")
            .build();
    Map<String, String> attributes = new HashMap<>(withToken.attributes());
    attributes.remove(dev.keyturn.spi.PodAttributes.TOKENS);
    assertThatThrownBy(
            () -> provider.mount(MountRequest.builder(target).attributes(attributes).build()))
        .isInstanceOfSatisfying(
            ProviderException.class, e -> assertThat(e.code()).isEqualTo("TokenMissing"))
        .hasMessageContaining("tokenRequests: [{audience: my-project.svc.id.goog}]");
    attributes.put("auth", "provider-adc");
    assertThatThrownBy(
            () -> provider.mount(MountRequest.builder(target).attributes(attributes).build()))
        .isInstanceOfSatisfying(
            ProviderException.class, e -> assertThat(e.code()).isEqualTo("IdentityRefused"));
    assertThat(standIn.served("POST /v1/token")).isEqualTo(before);
  }

  @Test
  void aKeyJsonThatIsNoServiceAccountKeyIsRefused() throws Exception {
    Map<String, String> s = new HashMap<>(GcpFixture.settings(standIn, cluster.kubeconfig()));
    s.put("allowNodePublishSecret", "true");
    try (SecretProvider p = new GcpProviderFactory().create(s)) {
      MountRequest base =
          GcpFixture.request(
                  target,
                  "- {resourceName: " + secret("x") + "/versions/1, fileName: v}",
                  NS,
                  "reader")
              .build();
      MountRequest request =
          MountRequest.builder(target)
              .attributes(base.attributes())
              .secrets(
                  Map.of(
                      "key.json",
                      "{\"type\":\"external_account\",\"credential_source\":{\"file\":\"/etc/shadow\"}}"))
              .build();
      assertThatThrownBy(() -> p.mount(request))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("IdentityRefused"))
          .hasMessageContaining("only a service_account key");
    }
  }

  @Test
  void aProjectTheOperatorDidNotAllowIsNeverCalled() throws Exception {
    Map<String, String> s = new HashMap<>(GcpFixture.settings(standIn, cluster.kubeconfig()));
    s.put("allowedProjects", "other-project");
    long before = standIn.served("served");
    try (SecretProvider p = new GcpProviderFactory().create(s)) {
      MountRequest request =
          GcpFixture.request(
                  target,
                  "- {resourceName: " + secret("x") + "/versions/1, fileName: v}",
                  NS,
                  "reader")
              .build();
      assertThatThrownBy(() -> p.validate(request))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("ProjectNotAllowed"));
      assertThatThrownBy(() -> p.mount(request))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("ProjectNotAllowed"));
    }
    assertThat(standIn.served("served")).isEqualTo(before);
  }

  @Test
  void aThrottlingStoreIsRetriedTwiceThenReportedThrottled() throws Exception {
    String s = secret("throttled");
    standIn.addVersion(s, "eventually".getBytes(StandardCharsets.UTF_8));
    MountRequest request =
        GcpFixture.request(
                target, "- {resourceName: " + s + "/versions/latest, fileName: v}", NS, "reader")
            .build();
    provider.mount(request);
    standIn.throttle(1);
    assertThat(texts(provider.mount(request))).containsEntry("v", "eventually");
    long before = standIn.served(":access 429");
    standIn.throttle(100);
    assertThatThrownBy(() -> provider.mount(request))
        .isInstanceOfSatisfying(
            ProviderException.class, e -> assertThat(e.code()).isEqualTo("Throttled"));
    assertThat(standIn.served(":access 429") - before).as("one try and two retries").isEqualTo(3);
    standIn.throttle(0);
  }
}

package dev.keyturn.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Helm chart and the plain manifests, checked offline with Helm itself (its Go library through
 * helm-java): lint, render with default and with every feature on, and every rendered object
 * validated against the Kubernetes schemas; the example SecretProviderClasses against our CRDs.
 */
class ChartTest {
  private static final Path CHART =
      Path.of(System.getProperty("keyturn.chart.dir", "src/main/helm/keyturn"));
  private static final Path MANIFEST =
      Path.of(System.getProperty("keyturn.manifest", "src/main/kubernetes/keyturn.yaml"));
  private static final Path EXAMPLES =
      Path.of(System.getProperty("keyturn.examples", "../examples"));
  private static final Path GO_VALUES =
      Path.of(
          System.getProperty(
              "keyturn.go.values", "src/test/resources/chart/go-driver-values.yaml"));

  /** Set to rewrite the plain manifest from the chart instead of comparing. */
  private static final boolean UPDATE = Boolean.getBoolean("keyturn.manifest.update");

  @Test
  void lintsCleanInStrictMode() {
    LintResult lint = new Helm(CHART).lint().strict().call();
    assertThat(lint.isFailed()).as("helm lint --strict: %s", lint.getMessages()).isFalse();
  }

  @Test
  void defaultRenderIsValidAgainstTheKubernetesSchemas() {
    Rendered rendered = render();
    assertThat(rendered.kinds())
        .containsExactly(
            "CSIDriver", "ClusterRole", "ClusterRoleBinding", "DaemonSet", "ServiceAccount");
    assertValid(rendered);
    // Helm installs crds/ before the templates and never templates them.
    assertThat(crds().kinds())
        .containsExactly(
            "CustomResourceDefinition", "CustomResourceDefinition", "CustomResourceDefinition");
    assertValid(crds());
  }

  @Test
  void everyFeatureOnStillValidates() {
    Rendered rendered =
        Rendered.parse(
            template()
                .set("syncSecret.enabled", true)
                .set("restartOnRotation.enabled", true)
                .set("enableSecretRotation", true)
                .set("rotationPollInterval", "30s")
                .set("logFormatJSON", true)
                .set("fileProvider.root", "/etc/keyturn/secrets")
                .set("tokenRequests[0].audience", "api://AzureADTokenExchange")
                .call());
    assertValid(rendered);
    JsonObject driver = rendered.only("CSIDriver");
    assertThat(Rendered.at(driver, "spec.tokenRequests").orElseThrow().toString())
        .contains("api://AzureADTokenExchange");
    List<String> args =
        strings(container(rendered.only("DaemonSet"), "keyturn").getAsJsonArray("args"));
    assertThat(args)
        .contains(
            "--enable-secret-rotation=true",
            "--rotation-poll-interval=30s",
            "--log-format-json=true",
            "--watch-synced-secrets=true");
    String rules = rendered.only("ClusterRole").get("rules").toString();
    assertThat(rules).contains("\"secrets\"", "\"deployments\"", "\"patch\"");
  }

  @Test
  void withoutTheRegistrarSidecarTheDriverRegistersWithKubeletItselfOnTheNodesNetworkIfAsked() {
    Rendered rendered =
        Rendered.parse(
            template()
                .set("linux.registrar.enabled", "false")
                .set("linux.hostNetwork", "true")
                .call());
    assertValid(rendered);
    JsonObject ds = rendered.only("DaemonSet");
    assertThat(Rendered.at(ds, "spec.template.spec.hostNetwork").orElseThrow().getAsBoolean())
        .isTrue();
    assertThat(Rendered.at(ds, "spec.template.spec.dnsPolicy").orElseThrow().getAsString())
        .isEqualTo("ClusterFirstWithHostNet");
    assertThat(Rendered.at(render().only("DaemonSet"), "spec.template.spec.hostNetwork")).isEmpty();
    List<String> names = containerNames(ds);
    assertThat(names).containsExactly("keyturn", "liveness-probe");
    JsonObject keyturn = container(ds, "keyturn");
    assertThat(strings(keyturn.getAsJsonArray("args")))
        .contains(
            "--register-with-kubelet",
            "--kubelet-registration-path=/var/lib/kubelet/plugins/csi-secrets-store/csi.sock");
    assertThat(keyturn.getAsJsonArray("volumeMounts").toString())
        .contains("\"mountPath\":\"/var/lib/kubelet/plugins_registry\"");
    // The default keeps the sidecar, and the driver leaves registration to it.
    assertThat(strings(container(render().only("DaemonSet"), "keyturn").getAsJsonArray("args")))
        .doesNotContain("--register-with-kubelet");
  }

  @Test
  void inProcessStoreProvidersAreTurnedOnByNameWithTheirSettingsAndTheirTokenAudience() {
    Rendered rendered =
        Rendered.parse(
            template()
                .set("inProcessProviders.vault.enabled", "true")
                .set("inProcessProviders.vault.settings.address", "https://vault.vault.svc:8200")
                .set("inProcessProviders.vault.settings.rolePattern", "{namespace}-*")
                .set("inProcessProviders.aws.enabled", "false")
                .set("tokenRequests[0].audience", "vault")
                .set("syncController.enabled", "true")
                .call());
    assertValid(rendered);
    for (JsonObject pod :
        List.of(
            container(rendered.only("DaemonSet"), "keyturn"),
            container(rendered.only("Deployment"), "keyturn-sync"))) {
      assertThat(strings(pod.getAsJsonArray("args")))
          .contains(
              "--in-process-provider=vault",
              "--provider-setting=vault.address=https://vault.vault.svc:8200",
              "--provider-setting=vault.rolePattern={namespace}-*")
          .noneMatch(a -> a.contains("aws"));
    }
    assertThat(rendered.only("CSIDriver").toString()).contains("\"audience\":\"vault\"");
    assertThat(
            rendered.objects().stream()
                .filter(o -> o.get("kind").getAsString().equals("ClusterRole"))
                .map(Object::toString))
        .as("aws off: the node reads no service accounts")
        .noneMatch(r -> r.contains("\"resources\":[\"serviceaccounts\"],\"verbs\":[\"get\"]"));
    Rendered aws = Rendered.parse(template().set("inProcessProviders.aws.enabled", "true").call());
    assertValid(aws);
    assertThat(
            aws.objects().stream()
                .filter(o -> o.get("kind").getAsString().equals("ClusterRole"))
                .map(Object::toString))
        .as("aws on: IRSA reads the pod's service account")
        .anyMatch(r -> r.contains("\"resources\":[\"serviceaccounts\"],\"verbs\":[\"get\"]"));
    Rendered gcp = Rendered.parse(template().set("inProcessProviders.gcp.enabled", "true").call());
    assertValid(gcp);
    assertThat(
            gcp.objects().stream()
                .filter(o -> o.get("kind").getAsString().equals("ClusterRole"))
                .map(Object::toString))
        .as("gcp on: workload identity reads the pod's service account")
        .anyMatch(r -> r.contains("\"resources\":[\"serviceaccounts\"],\"verbs\":[\"get\"]"));
    assertThat(strings(container(render().only("DaemonSet"), "keyturn").getAsJsonArray("args")))
        .noneMatch(a -> a.startsWith("--in-process-provider"));
  }

  @Test
  void withoutTheLivenessSidecarKubeletProbesTheDriversOwnHealthz() {
    JsonObject ds =
        Rendered.parse(template().set("linux.livenessProbe.enabled", "false").call())
            .only("DaemonSet");
    List<String> names = containerNames(ds);
    assertThat(names).containsExactlyInAnyOrder("keyturn", "node-driver-registrar");
    JsonObject keyturn = container(ds, "keyturn");
    assertThat(Rendered.at(keyturn, "livenessProbe.httpGet.port").orElseThrow().getAsString())
        .isEqualTo("metrics");
    assertThat(Rendered.at(keyturn, "livenessProbe.httpGet.path").orElseThrow().getAsString())
        .isEqualTo("/healthz");
    assertThat(keyturn.getAsJsonArray("ports").toString())
        .contains("\"metrics\"")
        .doesNotContain("\"healthz\"");
    // The default keeps the Go chart's sidecar, which calls the driver's CSI Probe.
    JsonObject byDefault = container(render().only("DaemonSet"), "keyturn");
    assertThat(Rendered.at(byDefault, "livenessProbe.httpGet.port").orElseThrow().getAsString())
        .isEqualTo("healthz");
  }

  @Test
  void aReleaseWithTheSyncControllerAloneLeavesTheCsiDriverToTheNodesRelease() {
    Rendered rendered =
        Rendered.parse(
            template().set("linux.enabled", "false").set("syncController.enabled", "true").call());
    assertValid(rendered);
    assertThat(rendered.kinds()).contains("Deployment").doesNotContain("DaemonSet", "CSIDriver");
    assertThat(render().kinds()).contains("DaemonSet", "CSIDriver");
  }

  /** The image the build makes is the one the chart asks for by default, and its appVersion. */
  @Test
  void theChartsDefaultImageIsTheOneTheBuildMakes() throws IOException {
    String built = System.getProperty("keyturn.image");
    assertThat(built).as("the build's image name (system property keyturn.image)").isNotBlank();
    JsonObject keyturn = container(render().only("DaemonSet"), "keyturn");
    assertThat(keyturn.get("image").getAsString()).isEqualTo(built);
    String chart = Files.readString(CHART.resolve("Chart.yaml"));
    assertThat(chart).contains("appVersion: \"" + built.substring(built.lastIndexOf(':') + 1));
  }

  @Test
  void theSyncControllerIsOptionalAndGetsOnlyItsOwnRules() {
    assertThat(render().kinds()).doesNotContain("Deployment");
    Rendered rendered =
        Rendered.parse(
            template()
                .set("syncController.enabled", true)
                .set("syncController.tokenRequestAudiences[0]", "vault")
                .call());
    assertValid(rendered);
    JsonObject deployment = rendered.only("Deployment");
    assertThat(Rendered.at(deployment, "spec.replicas").orElseThrow().getAsInt()).isEqualTo(2);
    assertThat(strings(container(deployment, "keyturn-sync").getAsJsonArray("args")))
        .contains(
            "sync",
            "--leader-elect=true",
            "--provider-volume=/provider",
            "--rotation-poll-interval=12h",
            "--token-request-audience=vault");
    String all = rendered.ofKind("ClusterRole").toString();
    // The driver's rules and the controller's; token requests only in the role namespaces bind.
    assertThat(all).contains("secretsyncs/status", "serviceaccounts/token");
    assertThat(rendered.ofKind("ClusterRoleBinding").toString()).doesNotContain("token-requester");
    assertThat(rendered.only("Role").toString()).contains("leases");
  }

  @Test
  void everyPodRunsUnderRuntimeDefaultSeccompAndEverySidecarWithoutPrivileges() {
    Rendered rendered = Rendered.parse(template().set("syncController.enabled", true).call());
    assertValid(rendered);
    for (String kind : List.of("DaemonSet", "Deployment")) {
      JsonObject spec =
          Rendered.at(rendered.only(kind), "spec.template.spec").orElseThrow().getAsJsonObject();
      assertThat(
              Rendered.at(spec, "securityContext.seccompProfile.type").orElseThrow().getAsString())
          .as(kind)
          .isEqualTo("RuntimeDefault");
      for (JsonElement c : spec.getAsJsonArray("containers")) {
        JsonObject container = c.getAsJsonObject();
        String name = container.get("name").getAsString();
        assertThat(container.has("securityContext")).as(name + " has a securityContext").isTrue();
        if (!name.equals("keyturn")) {
          JsonObject sc = container.getAsJsonObject("securityContext");
          assertThat(sc.get("allowPrivilegeEscalation").getAsBoolean()).as(name).isFalse();
          assertThat(sc.get("readOnlyRootFilesystem").getAsBoolean()).as(name).isTrue();
          assertThat(sc.getAsJsonObject("capabilities").toString()).as(name).contains("ALL");
        }
      }
    }
    JsonObject daemonSet = rendered.only("DaemonSet");
    assertThat(
            Rendered.at(daemonSet, "spec.template.spec.priorityClassName")
                .orElseThrow()
                .getAsString())
        .isEqualTo("system-node-critical");
    // Two sync replicas: on different nodes if possible, and drained one at a time.
    assertThat(
            Rendered.at(
                    rendered.only("Deployment"),
                    "spec.template.spec.affinity.podAntiAffinity"
                        + ".preferredDuringSchedulingIgnoredDuringExecution")
                .orElseThrow()
                .toString())
        .contains("kubernetes.io/hostname", "sync-controller");
    JsonObject pdb = rendered.only("PodDisruptionBudget");
    assertThat(Rendered.at(pdb, "spec.maxUnavailable").orElseThrow().getAsInt()).isEqualTo(1);
    assertThat(
            Rendered.parse(
                    template()
                        .set("syncController.enabled", true)
                        .set("syncController.replicas", 1)
                        .call())
                .kinds())
        .doesNotContain("PodDisruptionBudget");
  }

  @Test
  void aGoValuesFileThatMovesProvidersDirToTheAdditionalOneMountsEachPathOnce() {
    // Was: two volumeMounts at /etc/kubernetes/secrets-store-csi-providers (the API server
    // refuses such a pod).
    Rendered rendered =
        Rendered.parse(
            template()
                .withValuesFile(GO_VALUES)
                .set("linux.providersDir", "/etc/kubernetes/secrets-store-csi-providers")
                .call());
    assertValid(rendered);
    JsonObject keyturn = container(rendered.only("DaemonSet"), "keyturn");
    List<String> paths = new ArrayList<>();
    keyturn
        .getAsJsonArray("volumeMounts")
        .forEach(m -> paths.add(m.getAsJsonObject().get("mountPath").getAsString()));
    assertThat(paths)
        .doesNotHaveDuplicates()
        .contains("/etc/kubernetes/secrets-store-csi-providers");
    assertThat(strings(keyturn.getAsJsonArray("args")))
        .contains("--provider-volume=/etc/kubernetes/secrets-store-csi-providers")
        .noneMatch(a -> a.startsWith("--additional-provider-volume-paths="));
  }

  @Test
  void theSchemaRefusesUnknownKeysAndMalformedValuesNamingThem() {
    // Was: silently ignored, and rendered into the driver's args, each.
    assertThatThrownBy(() -> template().set("enableSecretRotaton", true).call())
        .hasMessageContaining("enableSecretRotaton");
    assertThatThrownBy(() -> template().set("rotationPollInterval", "2minutes").call())
        .hasMessageContaining("rotationPollInterval");
    assertThatThrownBy(() -> template().set("linux.image.pullPolicy", "Sometimes").call())
        .hasMessageContaining("pullPolicy");
    assertThatThrownBy(() -> template().set("syncController.replicas", 0).call())
        .hasMessageContaining("replicas");
    assertThatThrownBy(() -> template().set("linux.providersDir", "relative/dir").call())
        .hasMessageContaining("providersDir");
    // The Go chart's own values file and its keys that do not apply still render (they are
    // named in the install notes or fail with their own message).
    assertThat(Rendered.parse(template().withValuesFile(GO_VALUES).call()).kinds())
        .contains("DaemonSet");
    assertThat(Rendered.parse(template().set("rotationPollInterval", "1h30m").call()).kinds())
        .contains("DaemonSet");
  }

  /** The verbs a role grants on {@code resource}, over all its rules. */
  private static List<String> verbs(JsonObject role, String resource) {
    List<String> verbs = new ArrayList<>();
    for (JsonElement rule : role.getAsJsonArray("rules")) {
      if (strings(rule.getAsJsonObject().getAsJsonArray("resources")).contains(resource)) {
        verbs.addAll(strings(rule.getAsJsonObject().getAsJsonArray("verbs")));
      }
    }
    return verbs;
  }

  @Test
  void theNodesRulesCoverTheCallsItMakesAndTheLeaseRulesNameTheControllersLease() {
    Rendered rendered =
        Rendered.parse(
            template().set("syncSecret.enabled", true).set("syncController.enabled", true).call());
    JsonObject node =
        rendered.ofKind("ClusterRole").stream()
            .filter(
                r -> Rendered.at(r, "metadata.name").orElseThrow().getAsString().equals("keyturn"))
            .findFirst()
            .orElseThrow();
    // OrphanedSecrets deletes; KubernetesApiGateway patches status objects.
    assertThat(verbs(node, "secrets")).contains("delete", "create", "update");
    assertThat(verbs(node, "secretproviderclasspodstatuses")).contains("patch", "create");
    JsonObject lease = rendered.only("Role");
    for (JsonElement rule : lease.getAsJsonArray("rules")) {
      List<String> ruleVerbs = strings(rule.getAsJsonObject().getAsJsonArray("verbs"));
      if (!ruleVerbs.equals(List.of("create"))) {
        assertThat(strings(rule.getAsJsonObject().getAsJsonArray("resourceNames")))
            .as("every Lease verb but create is pinned to the controller's Lease")
            .containsExactly("29f1d54e.secret-sync.x-k8s.io");
      }
    }
  }

  @Test
  void fromKubernetes130TheApiServerHoldsTheSyncControllerToSecretsASecretSyncOwns() {
    Rendered old =
        Rendered.parse(
            template().withKubeVersion("1.29.0").set("syncController.enabled", true).call());
    assertThat(old.kinds()).doesNotContain("ValidatingAdmissionPolicy");
    Rendered rendered =
        Rendered.parse(
            template().withKubeVersion("1.37.2").set("syncController.enabled", true).call());
    assertValid(rendered);
    JsonObject policy = rendered.only("ValidatingAdmissionPolicy");
    assertThat(Rendered.at(policy, "spec.failurePolicy").orElseThrow().getAsString())
        .isEqualTo("Fail");
    assertThat(policy.toString())
        .contains(
            "system:serviceaccount:kube-system:keyturn-sync",
            "'Opaque', 'kubernetes.io/basic-auth', 'kubernetes.io/dockercfg',",
            "'kubernetes.io/dockerconfigjson', 'kubernetes.io/ssh-auth', 'kubernetes.io/tls'",
            "kubernetes[.]io|k8s[.]io")
        .doesNotContain("service-account-token'");
    JsonObject binding = rendered.only("ValidatingAdmissionPolicyBinding");
    assertThat(Rendered.at(binding, "spec.policyName").orElseThrow().getAsString())
        .isEqualTo(Rendered.at(policy, "metadata.name").orElseThrow().getAsString());
    assertThat(binding.toString()).contains("Deny");
    Rendered off =
        Rendered.parse(
            template()
                .withKubeVersion("1.37.2")
                .set("syncController.enabled", true)
                .set("syncController.admissionPolicies", false)
                .call());
    assertThat(off.kinds()).doesNotContain("ValidatingAdmissionPolicy");
  }

  @Test
  void theDaemonSetIsWhatKubeletAndTheGoDriverManifestsExpect() {
    Rendered rendered = render();
    JsonObject driver = rendered.only("CSIDriver");
    assertThat(Schemas.name(driver)).isEqualTo("secrets-store.csi.k8s.io");
    assertThat(Rendered.at(driver, "spec.podInfoOnMount").orElseThrow().getAsBoolean()).isTrue();
    assertThat(Rendered.at(driver, "spec.requiresRepublish").orElseThrow().getAsBoolean()).isTrue();
    assertThat(Rendered.at(driver, "spec.volumeLifecycleModes").orElseThrow().toString())
        .isEqualTo("[\"Ephemeral\"]");

    JsonObject ds = rendered.only("DaemonSet");
    JsonArray containers =
        Rendered.at(ds, "spec.template.spec.containers").orElseThrow().getAsJsonArray();
    List<String> names = new ArrayList<>();
    containers.forEach(c -> names.add(c.getAsJsonObject().get("name").getAsString()));
    assertThat(names).containsExactly("node-driver-registrar", "keyturn", "liveness-probe");
    JsonObject keyturn = container(ds, "keyturn");
    assertThat(strings(keyturn.getAsJsonArray("args")))
        .contains(
            "node",
            "--endpoint=$(CSI_ENDPOINT)",
            "--nodeid=$(KUBE_NODE_NAME)",
            "--provider-volume=/var/run/secrets-store-csi-providers",
            "--metrics-addr=:8095",
            "--enable-secret-rotation=false");
    JsonElement podsMount = null;
    for (JsonElement m : keyturn.getAsJsonArray("volumeMounts")) {
      if (m.getAsJsonObject().get("mountPath").getAsString().equals("/var/lib/kubelet/pods")) {
        podsMount = m;
      }
    }
    assertThat(podsMount).as("kubelet pods directory mounted").isNotNull();
    assertThat(podsMount.getAsJsonObject().get("mountPropagation").getAsString())
        .isEqualTo("Bidirectional");
    assertThat(Rendered.at(keyturn, "resources.requests.memory").orElseThrow().getAsString())
        .isEqualTo("100Mi");
    // The class data sharing archive: written by an init container of the same image into a
    // disk-backed emptyDir, mapped by the driver through JDK_JAVA_OPTIONS.
    JsonArray init =
        Rendered.at(ds, "spec.template.spec.initContainers").orElseThrow().getAsJsonArray();
    assertThat(init).hasSize(1);
    JsonObject cds = init.get(0).getAsJsonObject();
    assertThat(cds.get("image")).isEqualTo(keyturn.get("image"));
    assertThat(strings(cds.getAsJsonArray("args")))
        .containsExactly("cds-archive", "--output=/var/cache/keyturn/node.jsa", "--best-effort");
    assertThat(keyturn.getAsJsonArray("env").toString())
        .contains(
            "{\"name\":\"JDK_JAVA_OPTIONS\",\"value\":\"-XX:SharedArchiveFile=/var/cache/keyturn/node.jsa -Xshare:auto\"}");
    assertThat(keyturn.getAsJsonArray("volumeMounts").toString()).contains("/var/cache/keyturn");
    JsonObject classData = null;
    for (JsonElement v :
        Rendered.at(ds, "spec.template.spec.volumes").orElseThrow().getAsJsonArray()) {
      if (v.getAsJsonObject().get("name").getAsString().equals("class-data")) {
        classData = v.getAsJsonObject();
      }
    }
    assertThat(classData).as("class-data volume").isNotNull();
    assertThat(classData.getAsJsonObject("emptyDir").has("medium"))
        .as("on disk, not in memory")
        .isFalse();
    // Least privilege by default: no Secrets, no workloads.
    String rules = rendered.only("ClusterRole").get("rules").toString();
    assertThat(rules)
        .doesNotContain("\"secrets\"")
        .doesNotContain("\"deployments\"")
        .doesNotContain("\"pods\"");
  }

  @Test
  void aValuesFileOfTheGoDriversChartIsHonoured() {
    Rendered rendered = Rendered.parse(template().withValuesFile(GO_VALUES).call());
    assertValid(rendered);
    JsonObject ds = rendered.only("DaemonSet");
    JsonObject keyturn = container(ds, "keyturn");
    List<String> args = strings(keyturn.getAsJsonArray("args"));
    assertThat(args)
        .contains(
            "-v=5",
            "--log-format-json=true",
            "--metrics-addr=:8095",
            "--enable-secret-rotation=true",
            "--rotation-poll-interval=3m",
            "--provider-health-check=true",
            "--provider-health-check-interval=1m",
            "--max-call-recv-msg-size=8388608",
            "--watch-synced-secrets=true");
    assertThat(keyturn.get("ports").toString())
        .contains("\"containerPort\":8095", "\"containerPort\":9809");
    assertThat(keyturn.get("env").toString()).contains("HTTPS_PROXY", "http://proxy.example:3128");
    assertThat(keyturn.get("volumeMounts").toString()).contains("/etc/ssl/corporate");
    assertThat(keyturn.get("imagePullPolicy").getAsString()).isEqualTo("Always");
    JsonObject registrar = container(ds, "node-driver-registrar");
    assertThat(registrar.get("image").getAsString())
        .isEqualTo("mirror.example/sig-storage/csi-node-driver-registrar:v2.16.0");
    assertThat(strings(registrar.getAsJsonArray("args"))).contains("--v=3");
    JsonObject probe = container(ds, "liveness-probe");
    assertThat(probe.get("image").getAsString())
        .isEqualTo("mirror.example/sig-storage/livenessprobe:v2.18.0");
    assertThat(strings(probe.getAsJsonArray("args")))
        .contains("--http-endpoint=0.0.0.0:9809", "-v=4");
    JsonObject pod = Rendered.at(ds, "spec.template.spec").orElseThrow().getAsJsonObject();
    assertThat(pod.get("automountServiceAccountToken").getAsBoolean()).isTrue();
    assertThat(pod.get("priorityClassName").getAsString()).isEqualTo("system-node-critical");
    assertThat(pod.get("volumes").toString()).contains("corporate-ca");
    assertThat(pod.get("tolerations").toString()).contains("Exists");
    assertThat(pod.get("imagePullSecrets").toString()).contains("mirror-credentials");
    assertThat(Rendered.at(ds, "metadata.annotations").orElseThrow().toString())
        .contains("team.example/owner");
    assertThat(
            Rendered.at(ds, "spec.updateStrategy.rollingUpdate.maxUnavailable")
                .orElseThrow()
                .getAsInt())
        .isEqualTo(2);
    for (JsonObject object : rendered.objects()) {
      assertThat(Rendered.at(object, "metadata.labels").orElseThrow().toString())
          .as(Schemas.name(object))
          .contains("\"cost-center\":\"42\"");
    }
    JsonObject driver = rendered.only("CSIDriver");
    assertThat(Rendered.at(driver, "spec.tokenRequests").orElseThrow().toString())
        .contains("api://AzureADTokenExchange");
    // Before Kubernetes 1.35 the tokens stay in the volume context, as with the Go chart.
    assertThat(Rendered.at(driver, "spec.serviceAccountTokenInSecrets")).isEmpty();
    assertThat(rendered.only("ClusterRole").get("rules").toString()).contains("\"secrets\"");
  }

  @Test
  void tokensGoToTheSecretsFieldFromKubernetes135OrWhenAsked() {
    JsonObject on135 =
        Rendered.parse(template().withKubeVersion("1.35.0").withValuesFile(GO_VALUES).call())
            .only("CSIDriver");
    assertThat(Rendered.at(on135, "spec.serviceAccountTokenInSecrets").orElseThrow().getAsBoolean())
        .isTrue();
    JsonObject off =
        Rendered.parse(
                template()
                    .withKubeVersion("1.35.0")
                    .withValuesFile(GO_VALUES)
                    .set("serviceAccountTokenInSecrets", false)
                    .call())
            .only("CSIDriver");
    assertThat(Rendered.at(off, "spec.serviceAccountTokenInSecrets")).isEmpty();
    JsonObject asked =
        Rendered.parse(
                template()
                    .withValuesFile(GO_VALUES)
                    .set("serviceAccountTokenInSecrets", true)
                    .call())
            .only("CSIDriver");
    assertThat(Rendered.at(asked, "spec.serviceAccountTokenInSecrets").orElseThrow().getAsBoolean())
        .isTrue();
    JsonObject withoutTokens =
        Rendered.parse(template().set("serviceAccountTokenInSecrets", true).call())
            .only("CSIDriver");
    assertThat(Rendered.at(withoutTokens, "spec.serviceAccountTokenInSecrets")).isEmpty();
  }

  @Test
  void goChartValuesThatCannotApplyFailTheRenderNamingTheKey() {
    Map<String, Object[]> cases = new LinkedHashMap<>();
    cases.put("windows.enabled", new Object[] {"windows.enabled", true});
    cases.put("rbac.pspEnabled", new Object[] {"rbac.pspEnabled", true});
    cases.put(
        "linux.image.repository (registry.k8s.io/csi-secrets-store/driver)",
        new Object[] {"linux.image.repository", "registry.k8s.io/csi-secrets-store/driver"});
    cases.put(
        "linux.metricsAddr (\"localhost:http\")",
        new Object[] {"linux.metricsAddr", "localhost:http"});
    cases.put(
        "linux.healthzPort: renamed to livenessProbe.port",
        new Object[] {"linux.healthzPort", 9808});
    cases.put("fileProvider.root", new Object[] {"fileProvider.root", "/"});
    cases.forEach(
        (message, set) ->
            assertThatThrownBy(
                    () -> template().withValuesFile(GO_VALUES).set((String) set[0], set[1]).call())
                .as(message)
                .hasMessageContaining(message));
  }

  @Test
  void metricsAddressesInEveryShapeTheGoChartTakes() {
    for (String[] shape :
        new String[][] {
          {":8095", ":8095", "8095"},
          {"8096", ":8096", "8096"},
          {"0.0.0.0:8097", "0.0.0.0:8097", "8097"}
        }) {
      JsonObject keyturn =
          container(
              Rendered.parse(template().set("linux.metricsAddr", shape[0]).call())
                  .only("DaemonSet"),
              "keyturn");
      assertThat(strings(keyturn.getAsJsonArray("args")))
          .as(shape[0])
          .contains("--metrics-addr=" + shape[1]);
      assertThat(keyturn.get("ports").toString())
          .as(shape[0])
          .contains("\"containerPort\":" + shape[2] + ",");
    }
  }

  @Test
  void theInstallNotesNameTheGoValuesThatActDifferently() {
    String notes =
        new Helm(CHART)
            .install()
            .withName("keyturn")
            .withNamespace("kube-system")
            .clientOnly()
            .dryRun()
            .withValuesFile(GO_VALUES)
            .call()
            .getOutput();
    assertThat(notes)
        .contains(
            "linux.crds: unused",
            "windows.kubeletRootDir, windows.metricsAddr: unused",
            "rotationPollInterval (3m)");
    String defaults =
        new Helm(CHART)
            .install()
            .withName("keyturn")
            .withNamespace("kube-system")
            .clientOnly()
            .dryRun()
            .call()
            .getOutput();
    assertThat(defaults)
        .contains("serves CSI driver secrets-store.csi.k8s.io")
        .doesNotContain("act differently");
  }

  @Test
  void withoutClassDataSharingTheDriverStartsWithoutAnArchive() {
    Rendered rendered =
        Rendered.parse(template().set("linux.classDataSharing.enabled", false).call());
    assertValid(rendered);
    JsonObject ds = rendered.only("DaemonSet");
    assertThat(Rendered.at(ds, "spec.template.spec.initContainers")).isEmpty();
    assertThat(ds.toString()).doesNotContain("JDK_JAVA_OPTIONS").doesNotContain("class-data");
  }

  @Test
  void aBrokenObjectIsCaught() {
    JsonObject ds = render().only("DaemonSet").deepCopy();
    container(ds, "keyturn").addProperty("imagePullPolicyy", "Always");
    assertThat(Schemas.checkBuiltIn(ds)).singleElement().asString().contains("imagePullPolicyy");
    JsonObject noSelector = render().only("DaemonSet").deepCopy();
    noSelector.getAsJsonObject("spec").remove("selector");
    assertThat(Schemas.checkBuiltIn(noSelector)).singleElement().asString().contains("selector");
  }

  @Test
  void thePlainManifestIsTheChartsDefaultRender() throws IOException {
    String header =
        "# Generated from distribution/src/main/helm/keyturn with default values (release keyturn,\n"
            + "# namespace kube-system); ChartTest keeps it in step: -Dkeyturn.manifest.update=true rewrites it.\n";
    String expected = header + crdText() + template().call();
    if (UPDATE) {
      Files.createDirectories(MANIFEST.getParent());
      Files.writeString(MANIFEST, expected);
    }
    assertThat(MANIFEST)
        .as("run mvn -pl distribution test -Dkeyturn.manifest.update=true to regenerate")
        .hasContent(expected);
  }

  @Test
  void examplesValidateAgainstOurCrdsAndTheKubernetesSchemas() throws IOException {
    JsonObject spcCrd =
        crds().ofKind("CustomResourceDefinition").stream()
            .filter(c -> Schemas.name(c).equals("secretproviderclasses.secrets-store.csi.x-k8s.io"))
            .findFirst()
            .orElseThrow();
    List<Path> files;
    try (Stream<Path> list = Files.list(EXAMPLES.resolve("kubernetes"))) {
      files = list.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertThat(files).hasSizeGreaterThanOrEqualTo(2);
    int classes = 0;
    for (Path file : files) {
      for (JsonObject object : Rendered.parse(Files.readString(file)).objects()) {
        String kind = object.get("kind").getAsString();
        if (kind.equals("SecretProviderClass")) {
          classes++;
          assertThat(Schemas.checkCustom(spcCrd, object))
              .as(file + " " + Schemas.name(object))
              .isEmpty();
        } else {
          assertThat(Schemas.checkBuiltIn(object)).as(file + " " + kind).isEmpty();
        }
      }
    }
    assertThat(classes).isGreaterThanOrEqualTo(2);

    JsonObject bad =
        Rendered.parse(
                "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\n"
                    + "metadata: {name: bad}\nspec:\n  provider: 7\n  parameter: {a: b}\n")
            .objects()
            .get(0);
    assertThat(String.join("\n", Schemas.checkCustom(spcCrd, bad)))
        .contains("spec.provider: integer found, string expected")
        .contains("spec.parameter: not in the schema");
  }

  private static Rendered crds() {
    return Rendered.parse(crdText());
  }

  private static String crdText() {
    StringBuilder text = new StringBuilder();
    try (Stream<Path> files = Files.list(CHART.resolve("crds"))) {
      for (Path file : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        text.append("---\n").append(Files.readString(file));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return text.toString();
  }

  private static Rendered render() {
    return Rendered.parse(template().call());
  }

  /** {@code helm template keyturn <chart> -n kube-system}, to add values to. */
  private static TemplateCommand template() {
    return new Helm(CHART).template().withName("keyturn").withNamespace("kube-system");
  }

  private static void assertValid(Rendered rendered) {
    List<String> problems = new ArrayList<>();
    for (JsonObject object : rendered.objects()) {
      problems.addAll(Schemas.checkBuiltIn(object));
    }
    assertThat(problems).isEmpty();
  }

  private static JsonObject container(JsonObject ds, String name) {
    for (JsonElement c :
        Rendered.at(ds, "spec.template.spec.containers").orElseThrow().getAsJsonArray()) {
      if (c.getAsJsonObject().get("name").getAsString().equals(name)) {
        return c.getAsJsonObject();
      }
    }
    throw new AssertionError("no container " + name);
  }

  private static List<String> containerNames(JsonObject workload) {
    List<String> names = new ArrayList<>();
    Rendered.at(workload, "spec.template.spec.containers")
        .orElseThrow()
        .getAsJsonArray()
        .forEach(c -> names.add(c.getAsJsonObject().get("name").getAsString()));
    return names;
  }

  private static List<String> strings(JsonArray array) {
    List<String> out = new ArrayList<>();
    array.forEach(e -> out.add(e.getAsString()));
    return out;
  }
}

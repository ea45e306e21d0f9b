package dev.keyturn.testing.kubernetes;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a Kubernetes-facing test class: it runs through {@link KubernetesExtension} and carries the
 * tag {@code kubernetes}, which the real-API-server phase of CI selects ({@code
 * tools/kube-apiserver/run-tests.sh}).
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("kubernetes")
@ExtendWith(KubernetesExtension.class)
public @interface KubernetesTest {}

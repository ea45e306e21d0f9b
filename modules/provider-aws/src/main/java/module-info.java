/**
 * The {@code aws} provider: AWS Secrets Manager and SSM Parameter Store, read in process as the pod
 * (IRSA), from SecretProviderClasses written for aws/secrets-store-csi-driver-provider-aws.
 */
module dev.keyturn.provider.aws {
  requires transitive dev.keyturn.spi;
  requires software.amazon.awssdk.services.secretsmanager;
  requires software.amazon.awssdk.services.ssm;
  requires software.amazon.awssdk.services.sts;
  requires software.amazon.awssdk.http.urlconnection;
  requires software.amazon.awssdk.http;
  requires software.amazon.awssdk.auth;
  requires software.amazon.awssdk.identity.spi;
  requires software.amazon.awssdk.regions;
  requires software.amazon.awssdk.core;
  requires software.amazon.awssdk.awscore;
  requires software.amazon.awssdk.utils;
  requires io.kubernetes.client.java.api;
  requires io.kubernetes.client.java;
  requires jmespath.core;
  requires jmespath.gson;
  requires com.google.gson;
  requires org.yaml.snakeyaml;

  exports dev.keyturn.provider.aws;

  provides dev.keyturn.spi.SecretProviderFactory with
      dev.keyturn.provider.aws.AwsProviderFactory;
}
